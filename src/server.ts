import fs from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { loadAccessMatrix } from './access/matrix';
import { createApp } from './app';
import { createNotifier, dmpIndexer } from './audit/notify';
import { authenticatorFromConfig } from './auth/from-config';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { openStore } from './store';

/**
 * The only file that listens: configuration, store, app, HTTP server, and a
 * graceful shutdown that stops accepting, lets in-flight requests finish and
 * closes the store (flushing queued writes).
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const store = await openStore(config);
  const version = readVersion();
  const auth = await authenticatorFromConfig(config);
  logger.info({ auth: auth.describe }, 'access tokens');
  if (config.auth.kind === 'dev') {
    logger.warn('No AUTH_* setting: trusting a local development key (npm run token). Configure AUTH_ISSUER for real use.');
  }
  const accessMatrix = loadAccessMatrix(config.accessMatrixFile);
  // Notifications are written straight to the store, indexed as createApp indexes every resource.
  const notifier = createNotifier(config, { store, indexer: dmpIndexer(config.baseUrl, accessMatrix), logger });
  const app = createApp({
    config,
    store,
    logger,
    version,
    authenticator: auth.authenticator,
    accessMatrix,
    security: auth.security,
    validateDmpProfiles: config.validateDmpProfiles,
    notifier,
  });
  const server = app.listen(config.port, config.host, () => {
    logger.info(
      { host: config.host, port: config.port, store: store.kind, storeInfo: store.describe(), baseUrl: config.baseUrl, version },
      'FHIR server listening',
    );
    notifier.start();
    logger.info({ sender: config.notify.sender, maxAttempts: config.notify.maxAttempts, retryMs: config.notify.retryMs }, 'notification dispatcher started');
  });
  server.keepAliveTimeout = 65_000;
  // Connections never used: Node's closeIdleConnections leaves them (they wait for headers), so the shutdown closes them itself.
  const unused = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('data', () => unused.delete(socket));
    socket.once('close', () => unused.delete(socket));
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close(async () => {
      // In-flight sends finish and are recorded before the store closes; unsent ones wait in the store.
      await notifier.stop().catch((err: unknown) => logger.error({ err: (err as Error).name }, 'notification dispatcher stop failed'));
      await store.close();
      logger.info('stopped');
      process.exit(0);
    });
    // A keep-alive connection busy at this moment answers its request, then goes idle and would hold close()
    // until the hard exit below (exit code 1, store not closed): close connections as they become idle. So too
    // a connection opened and never used (a browser's preconnect, a client pool's spare socket), which Node
    // does not count as idle: it would wait for its request headers.
    const closeIdle = () => {
      server.closeIdleConnections();
      for (const socket of unused) socket.destroy();
    };
    closeIdle();
    setInterval(closeIdle, 100).unref();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
