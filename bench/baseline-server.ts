import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { openStore } from '../src/store';

/**
 * The benchmark's baseline: the same server with authentication and DMP
 * access control OFF (`withoutAccessControl`), to measure what they cost.
 * Only `npm run bench` starts it; no setting of the real server
 * (src/server.ts) can turn access control off.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const store = await openStore(config);
  const app = createApp({ config, store, logger, withoutAccessControl: true, validateDmpProfiles: config.validateDmpProfiles });
  const server = app.listen(config.port, config.host, () => logger.warn('BENCHMARK BASELINE: no authentication, no access control'));
  const stop = () => server.close(() => void store.close().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline server failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
