import fs from 'node:fs';
import { openTestApp, type TestApp } from '../support/app';
import { allResources, generateDataset, loadDataset, PARALLEL_WRITES, PATIENTS_PER_ADAPTER } from '../support/dataset';
import { allPages } from '../support/oracle';
import { STORES } from '../support/stores';
import { removeTempDirs } from '../support/temp-dirs';
import { download, exportSettings, runExport } from './export-support';

/**
 * The check: a `$export` of the benchmark's data set (the same
 * generator, test/support/dataset.ts), line by line against a search of
 * each type: every exported resource equals the one the search returns,
 * and the two sets are the same.
 */
describe.each(STORES)('$export of the data set equals a search of every type ($name)', (fixture) => {
  const ds = generateDataset({ seed: 8, patients: PATIENTS_PER_ADAPTER[fixture.name] });
  const settings = exportSettings();
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture, { export: settings });
    await loadDataset(t.app, ds, PARALLEL_WRITES[fixture.name]);
  }, 600_000);
  afterAll(async () => {
    await t.close();
    fs.rmSync(settings.dir, { recursive: true, force: true });
  });

  test('system-level export, every type', async () => {
    const { manifest } = await runExport(t.app, '$export');
    const files = await download(t.app, manifest);
    const generated = new Map<string, number>();
    for (const r of allResources(ds)) generated.set(r.resourceType, (generated.get(r.resourceType) ?? 0) + 1);
    expect(new Map(manifest.output.map((o) => [o.type, o.count]))).toEqual(generated);
    for (const [type, exported] of files) {
      const pages = await allPages(t.app, `/fhir/${type}?_count=100&_total=accurate`);
      const searched = pages.flatMap((p) => (p.body.entry ?? []).map((e) => e.resource));
      expect(pages[0].body.total).toBe(exported.length);
      const byId = new Map(searched.map((r) => [r.id, r]));
      expect(byId.size).toBe(exported.length);
      // Line by line: the same resource (meta included) as the search returns.
      for (const r of exported) expect(r).toEqual(byId.get(r.id as string));
    }
  }, 300_000);
});

// The export directories of every block, once all have run.
afterAll(removeTempDirs);
