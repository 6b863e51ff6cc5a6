import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x } from 'tar';
import { loadDefinitions } from '../../src/fhir/definitions';
import { loadProfileRegistry } from '../../src/fhir/profiles';
import { buildPackage } from '../../src/fhir/profiles/package';

describe('FHIR NPM package of the DMP profiles', () => {
  test('package.tgz holds package/package.json and a .index.json that lists every file', async () => {
    loadDefinitions();
    const dir = mkdtempSync(join(tmpdir(), 'pkg-'));
    const tgz = join(dir, 'package.tgz');
    await buildPackage(loadProfileRegistry(), tgz);
    await x({ file: tgz, cwd: dir });
    const files = readdirSync(join(dir, 'package')).sort();
    expect(files).toContain('package.json');
    expect(files).toContain('.index.json');
    const index = JSON.parse(execFileSync('cat', [join(dir, 'package', '.index.json')], { encoding: 'utf8' })) as { 'index-version': number; files: { filename: string; url: string }[] };
    expect(index['index-version']).toBe(1);
    const resources = files.filter((f) => f !== 'package.json' && f !== '.index.json');
    expect(index.files.map((f) => f.filename).sort()).toEqual(resources);
    expect(resources.length).toBe(11); // nine StructureDefinitions, two ValueSets
    for (const f of index.files) {
      expect(f.url).toMatch(/^https:\/\/dmp\.example\/fhir\/(StructureDefinition|ValueSet)\//);
    }
    const manifest = JSON.parse(execFileSync('cat', [join(dir, 'package', 'package.json')], { encoding: 'utf8' }));
    expect(manifest).toMatchObject({ name: 'dmp.example.fhir', fhirVersions: ['4.0.1'], dependencies: expect.objectContaining({ 'ans.fhir.fr.pdsm': '3.1.1' }) });
    const sd = JSON.parse(execFileSync('cat', [join(dir, 'package', 'StructureDefinition-dmp-patient.json')], { encoding: 'utf8' }));
    expect(sd.snapshot.element.length).toBeGreaterThan(10);
  });
});

describe('dmp-fhir-validate (command line)', () => {
  const cli = join(__dirname, '../../src/cli/validate.ts');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['-e', `require('@swc/core');${LOADER};require(${JSON.stringify(cli)})`, ...args], { encoding: 'utf8', cwd: join(__dirname, '../..') });

  test('a folder of valid fixtures: exit 0; an invalid file: exit 1 with each issue and its location', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const fixtures = join(__dirname, '../../fixtures/profiles');
    const ok = run(join(fixtures, 'patient-valid.json'), join(fixtures, 'observation-valid.json'));
    expect([ok.status, ok.stdout.trim().split('\n').pop()]).toEqual([0, '2 file(s), 0 error(s)']);
    const bad = run(join(fixtures, 'documentreference-invalid-type-not-j66.json'));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/documentreference-invalid-type-not-j66\.json: error code-invalid DocumentReference\.type: The code http:\/\/loinc\.org#34133-9-x/);
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(run(dir).status).toBe(1);
    expect(run().status).toBe(2);
  });
});

/** Compiles required .ts files with @swc/core on the fly (the CLI is compiled by tsc in production). */
const LOADER = `const swc=require('@swc/core');const fs=require('fs');require.extensions['.ts']=(m,f)=>{m._compile(swc.transformSync(fs.readFileSync(f,'utf8'),{filename:f,jsc:{target:'es2022',parser:{syntax:'typescript'}},module:{type:'commonjs'}}).code,f)}`;
