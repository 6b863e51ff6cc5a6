import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { loadProfileRegistry, validateAgainstProfiles } from '../../src/fhir/profiles';
import { createValidator } from '../../src/fhir/validation';

/**
 * Each fixture of fixtures/profiles is validated against the DMP profile its
 * meta.profile names; expected-issues.json lists the exact issues
 * (severity, code, FHIRPath location) of each, valid ones included (none).
 */
const dir = join(__dirname, '../../fixtures/profiles');
const expected = JSON.parse(readFileSync(join(dir, 'expected-issues.json'), 'utf8')) as Record<string, string[][]>;
const files = readdirSync(dir).filter((f) => f !== 'expected-issues.json').sort();

describe('DMP profile fixtures', () => {
  loadDefinitions();
  const registry = loadProfileRegistry();
  const base = createValidator();

  test('every fixture has expected issues, and every DMP profile a valid and several invalid fixtures', () => {
    expect(Object.keys(expected).sort()).toEqual(files);
    const extensionUrls = registry.content.structureDefinitions
      .filter((s) => s.resource.type === 'Extension' && s.resource.url?.startsWith('https://dmp.example/fhir/'))
      .map((s) => s.resource.url as string);
    expect(extensionUrls).toHaveLength(1);
    const byProfile = new Map<string, { valid: number; invalid: number }>();
    for (const f of files) {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource;
      const p = r.meta?.profile?.[0] as string;
      const c = byProfile.get(p) ?? { valid: 0, invalid: 0 };
      expected[f].some((i) => i[0] === 'error') ? c.invalid++ : c.valid++;
      byProfile.set(p, c);
      // An extension's fixtures are the resources that carry it: invalid when an error lies inside an extension.
      for (const ext of extensionUrls) {
        if (!readFileSync(join(dir, f), 'utf8').includes(`"${ext}"`)) continue;
        const e = byProfile.get(ext) ?? { valid: 0, invalid: 0 };
        const errors = expected[f].filter((i) => i[0] === 'error');
        if (errors.length === 0) e.valid++;
        else if (errors.some((i) => /\.extension\[\d+\]/.test(i[2]))) e.invalid++;
        byProfile.set(ext, e);
      }
    }
    const own = registry.content.structureDefinitions.filter((s) => s.resource.url?.startsWith('https://dmp.example/fhir/'));
    expect(own.length).toBe(9);
    for (const { resource } of own) {
      expect([resource.url, (byProfile.get(resource.url as string)?.valid ?? 0) >= 1]).toEqual([resource.url, true]);
      expect([resource.url, (byProfile.get(resource.url as string)?.invalid ?? 0) >= 2]).toEqual([resource.url, true]);
    }
  });

  test.each(files)('%s gives exactly its expected issues', (f) => {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource;
    const issues = validateAgainstProfiles(registry, r, r.meta?.profile ?? []);
    expect(issues.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual(expected[f]);
    for (const i of issues) {
      expect(i.details?.text).toEqual(expect.any(String));
    }
  });

  test.each(files.filter((f) => f.includes('-valid')))('%s is also valid base R4', (f) => {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource;
    expect(base.validate(r).filter((i) => i.severity === 'error')).toEqual([]);
  });
});
