import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { createApp } from '../../src/app';
import { loadDefinitions } from '../../src/fhir/definitions';
import { ConformanceLoadError, loadProfileRegistry } from '../../src/fhir/profiles';
import { loadConformance } from '../../src/fhir/profiles/loader';
import { STORES } from '../support/stores';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

/** A folder holding one file with this content (and nothing else). */
function folderWith(name: string, content: string): string {
  const dir = tempDir('conf-');
  writeFileSync(join(dir, name), content);
  return dir;
}

const sd = (extra: Record<string, unknown>) =>
  JSON.stringify({ resourceType: 'StructureDefinition', url: 'https://x.example/sd', type: 'Patient', kind: 'resource', ...extra });

describe('loading profiles/ and terminology/', () => {
  beforeAll(() => loadDefinitions());
  afterAll(removeTempDirs);

  test.each([
    ['bad.json', '{ nope', /bad\.json: not valid JSON/],
    ['arr.json', '[1]', /arr\.json: not a JSON object/],
    ['p.json', JSON.stringify({ resourceType: 'Patient', url: 'https://x' }), /p\.json: resourceType "Patient" is not a conformance resource/],
    ['nourl.json', JSON.stringify({ resourceType: 'ValueSet' }), /nourl\.json: has no canonical url/],
    ['vs.json', JSON.stringify({ resourceType: 'ValueSet', url: 'https://x/vs', compose: { include: [{}] } }), /vs\.json: a ValueSet\.compose\.include names neither a system nor a valueSet/],
    ['notype.json', sd({ type: undefined, differential: { element: [] } }), /notype\.json: StructureDefinition has no type/],
    ['noel.json', sd({}), /noel\.json: StructureDefinition has neither snapshot nor differential/],
    ['path.json', sd({ baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', differential: { element: [{ path: 'Observation.code' }] } }), /path\.json: element 0 has a path that is not under Patient/],
    ['max.json', sd({ baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', differential: { element: [{ path: 'Patient.name', max: 'many' }] } }), /max\.json: element Patient\.name has an invalid max/],
  ])('%s stops start-up with the file and the problem', (name, content, message) => {
    expect(() => loadConformance([folderWith(name, content)])).toThrow(message);
  });

  test('a differential whose base or elements cannot be resolved names the file', () => {
    const unknownBase = folderWith('b.json', sd({ baseDefinition: 'https://nowhere/sd', differential: { element: [{ path: 'Patient' }] } }));
    expect(() => loadProfileRegistry([unknownBase])).toThrow(/b\.json: cannot build the snapshot: base definition https:\/\/nowhere\/sd is not known/);
    const badElement = folderWith('e.json', sd({ baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', differential: { element: [{ id: 'Patient.nope', path: 'Patient.nope' }] } }));
    expect(() => loadProfileRegistry([badElement])).toThrow(ConformanceLoadError);
  });

  test('createApp refuses to start on a malformed folder', async () => {
    const store = await STORES[0].open();
    try {
      const dir = folderWith('broken.json', '{');
      expect(() => createApp({ config: { baseUrl: 'http://x/fhir', maxBodyBytes: 1000, defaultPageSize: 10, maxPageSize: 10 }, store, logger: pino({ level: 'silent' }), conformanceRoots: [dir], withoutAccessControl: true })).toThrow(
        /broken\.json: not valid JSON/,
      );
    } finally {
      await STORES[0].dispose(store);
    }
  });

  test('terminology/access/ (the access matrix, plain JSON) is not read; package manifests are skipped', () => {
    const dir = tempDir('conf-');
    mkdirSync(join(dir, 'access'));
    writeFileSync(join(dir, 'access', 'matrix.json'), JSON.stringify({ professions: { '10': ['*'] } }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x' }));
    writeFileSync(join(dir, 'vs.json'), JSON.stringify({ resourceType: 'ValueSet', url: 'https://x/vs', status: 'active' }));
    const content = loadConformance([dir]);
    expect(content.valueSets.map((v) => v.resource.url)).toEqual(['https://x/vs']);
    expect(content.others).toEqual([]);
  });

  test('the shipped folders load: vendored packages and the nine DMP profiles (eight resource profiles and the audit chain extension), each with a snapshot', () => {
    const registry = loadProfileRegistry();
    const own = registry.content.structureDefinitions.filter((s) => s.resource.url?.startsWith('https://dmp.example/fhir/'));
    expect(own.map((s) => s.resource.id).sort()).toEqual([
      'dmp-audit-chain',
      'dmp-audit-event',
      'dmp-consent',
      'dmp-document-reference',
      'dmp-lab-diagnostic-report',
      'dmp-lab-observation',
      'dmp-patient',
      'dmp-provide-document-bundle',
      'dmp-submissionset',
    ]);
    for (const { resource } of own) {
      expect(resource.snapshot?.element?.length).toBeGreaterThan(10);
      expect(resource.differential?.element?.length).toBeGreaterThan(0);
    }
  });
});
