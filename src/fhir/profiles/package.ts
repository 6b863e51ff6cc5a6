import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { create } from 'tar';
import { DMP_BASE } from './index';
import type { ProfileRegistry } from './registry';

/** Name and version of the package of the server's own conformance resources. */
export const PACKAGE_NAME = 'dmp.example.fhir';
export const PACKAGE_VERSION = '0.1.0';

/** The public packages the DMP profiles derive from (as vendored in profiles/vendor and terminology/vendor). */
const DEPENDENCIES = {
  'hl7.fhir.r4.core': '4.0.1',
  'ans.fhir.fr.pdsm': '3.1.1',
  'ihe.iti.mhd': '4.2.3',
  'hl7.fhir.fr.core': '2.1.0',
  'ans.fr.terminologies': '1.10.0',
};

/** One entry of `.index.json`. @see https://confluence.hl7.org/display/FHIR/NPM+Package+Specification */
interface IndexEntry {
  filename: string;
  resourceType: string;
  id?: string;
  url?: string;
  version?: string;
  kind?: string;
  type?: string;
}

/**
 * Builds the FHIR NPM package (`package.tgz`) of the server's own profiles
 * and terminology (canonical URLs under {@link DMP_BASE}), StructureDefinitions
 * with their snapshots, so integrators can validate offline with any FHIR
 * validator: `package/package.json`, `package/.index.json` and one file per
 * resource.
 * @see https://hl7.org/fhir/R4/packages.html
 */
export async function buildPackage(registry: ProfileRegistry, outFile: string): Promise<IndexEntry[]> {
  const c = registry.content;
  const own = [...c.structureDefinitions, ...c.valueSets, ...c.codeSystems, ...c.searchParameters]
    .map((l) => l.resource as Resource & { url?: string; version?: string; kind?: string; type?: string })
    .filter((r) => r.url?.startsWith(`${DMP_BASE}/`));
  const dir = mkdtempSync(join(tmpdir(), 'dmp-package-'));
  try {
    mkdirSync(join(dir, 'package'));
    const files: IndexEntry[] = own.map((r) => {
      const filename = `${r.resourceType}-${r.id}.json`;
      writeFileSync(join(dir, 'package', filename), JSON.stringify(r, null, 2));
      return { filename, resourceType: r.resourceType, id: r.id, url: r.url, version: r.version, kind: r.kind, type: r.type };
    });
    const manifest = {
      name: PACKAGE_NAME,
      version: PACKAGE_VERSION,
      canonical: DMP_BASE,
      title: 'DMP FHIR server profiles and terminology',
      description: 'Profiles and value sets the DMP FHIR server publishes and enforces, derived from PDSm, IHE MHD and FR Core.',
      fhirVersions: ['4.0.1'],
      type: 'fhir.ig',
      license: 'CC0-1.0',
      dependencies: DEPENDENCIES,
    };
    writeFileSync(join(dir, 'package', 'package.json'), JSON.stringify(manifest, null, 2));
    writeFileSync(join(dir, 'package', '.index.json'), JSON.stringify({ 'index-version': 1, files }, null, 2));
    mkdirSync(dirname(outFile), { recursive: true });
    await create({ gzip: true, file: outFile, cwd: dir, portable: true }, ['package']);
    return files;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
