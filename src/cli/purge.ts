import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { applyPurge, findPurgeable, purgeCutoff } from '../fhir/purge';
import { openStore } from '../store';

/**
 * `npm run purge [-- --apply]`: lists the DMPs closed more than 10 years ago
 * and everything in them (a dry run, the default); with `--apply`, removes
 * them physically. It never touches an open DMP or one closed more recently.
 * Uses the server's configuration (DATA_DIR, MONGODB_URL, MONGODB_DB).
 * Prints ids only, never resource contents.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    process.stdout.write('usage: npm run purge [-- --apply]\n  lists (default) or removes (--apply) the DMPs closed more than 10 years ago\n');
    return;
  }
  const config = loadConfig();
  const store = await openStore(config);
  try {
    const cutoff = purgeCutoff(Date.now());
    const found = await findPurgeable(store, cutoff, config.baseUrl);
    process.stdout.write(`DMPs closed before ${new Date(cutoff).toISOString()}: ${found.length}\n`);
    for (const c of found) {
      process.stdout.write(`Patient/${c.patientId} closed ${c.closedAt}: ${c.resources.length} resources\n`);
      for (const r of c.resources) process.stdout.write(`  ${r.type}/${r.id}\n`);
    }
    if (!values.apply) {
      process.stdout.write('Dry run: nothing was deleted. Run with --apply to delete.\n');
      return;
    }
    const n = await applyPurge(store, found);
    process.stdout.write(`Deleted ${n} resources of ${found.length} DMPs.\n`);
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? 'Configuration error' : 'Purge failed'}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
