import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { verifyAllChains, verifyChain, type ChainReport } from '../audit/verify';
import { patientChain } from '../audit/codes';
import { openStore } from '../store';

/**
 * `npm run audit:verify [-- --patient ID]`: checks the AuditEvent hash
 * chains (every chain, or one patient's) and prints, per chain, that it is
 * whole or where it is first broken. Exits 1 if any chain is broken. Uses
 * the server's configuration (DATA_DIR, MONGODB_URL, MONGODB_DB); prints
 * chain keys, positions and AuditEvent ids only.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { patient: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    process.stdout.write('usage: npm run audit:verify [-- --patient ID]\n  verifies the AuditEvent hash chains; exit code 1 when one is broken\n');
    return 0;
  }
  const store = await openStore(loadConfig());
  try {
    const print = (r: ChainReport) =>
      process.stdout.write(
        r.broken
          ? `${r.chain}: BROKEN at link ${r.broken.seq} (${r.broken.reason}${r.broken.reference ? `, ${r.broken.reference}` : ''}) after ${r.links} good links\n`
          : `${r.chain}: whole, ${r.links} links\n`,
      );
    if (values.patient) {
      const r = await verifyChain(store, patientChain(values.patient));
      print(r);
      return r.broken ? 1 : 0;
    }
    const broken = await verifyAllChains(store, print);
    process.stdout.write(broken === 0 ? 'Every chain is whole.\n' : `${broken} broken chain(s).\n`);
    return broken === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? 'Configuration error' : 'Verification failed'}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
