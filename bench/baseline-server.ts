import { createApp } from '../src/app';
import { authenticatorFromConfig } from '../src/auth/from-config';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { openStore } from '../src/store';

/**
 * The benchmark's baselines: the same server with authentication, DMP
 * access control and the audit trail OFF (`withoutAccessControl`), or, with
 * `BENCH_BASELINE=no-audit`, with only the audit trail off (`withoutAudit`),
 * to measure what each costs. Only `npm run bench` starts this entry; no
 * setting of the real server (src/server.ts) can turn any of them off.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const store = await openStore(config);
  const noAudit = process.env.BENCH_BASELINE === 'no-audit';
  const app = noAudit
    ? createApp({ config, store, logger, authenticator: (await authenticatorFromConfig(config)).authenticator, withoutAudit: true, validateDmpProfiles: config.validateDmpProfiles })
    : createApp({ config, store, logger, withoutAccessControl: true, validateDmpProfiles: config.validateDmpProfiles });
  const banner = noAudit ? 'BENCHMARK BASELINE: no audit trail' : 'BENCHMARK BASELINE: no authentication, no access control, no audit trail';
  const server = app.listen(config.port, config.host, () => logger.warn(banner));
  const stop = () => server.close(() => void store.close().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline server failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
