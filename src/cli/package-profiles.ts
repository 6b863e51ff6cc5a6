import { resolve } from 'node:path';
import { loadDefinitions } from '../fhir/definitions';
import { loadProfileRegistry } from '../fhir/profiles';
import { buildPackage } from '../fhir/profiles/package';

/** `npm run package:profiles [out.tgz]`: the FHIR NPM package of the server's own profiles and terminology. */
async function main(): Promise<void> {
  loadDefinitions();
  const out = resolve(process.argv[2] ?? 'dist/package.tgz');
  const files = await buildPackage(loadProfileRegistry(), out);
  process.stdout.write(`${out}: ${files.length} resources\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
