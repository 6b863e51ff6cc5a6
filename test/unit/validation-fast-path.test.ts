import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { passesStructureFastPath } from '../../src/fhir/validation/fast-structure';
import { allResources, generateDataset } from '../support/dataset';

/**
 * The structural fast path may only ever say "Medplum would report nothing".
 * Checked over every JSON resource the project has (fixtures, the public
 * reference examples and profiles, the search data set), and over thousands
 * of damaged copies of them: whenever the fast path accepts, Medplum's
 * validator must return no issue at all.
 */
let resources: Resource[];
beforeAll(() => {
  loadDefinitions();
  resources = corpus();
});

function medplumIssues(r: Resource): number {
  try {
    return validateResource(r).length;
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue?.length ?? 1;
    return 1;
  }
}

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...jsonFiles(path));
    else if (name.endsWith('.json') && !name.endsWith('.json-patch.json')) out.push(path);
  }
  return out;
}

function corpus(): Resource[] {
  const roots = ['../../fixtures', '../../profiles', '../../terminology', '../../../shared/reference'].map((d) => join(__dirname, d));
  const files = roots.flatMap(jsonFiles);
  const parsed = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown);
  const resources = parsed.filter((r): r is Resource => typeof r === 'object' && r !== null && typeof (r as Resource).resourceType === 'string');
  const ds = allResources(generateDataset({ seed: 7, patients: 10, practitioners: 4 }));
  return [...resources, ...ds];
}

type Json = Record<string, unknown>;

/**
 * A deep copy made in this realm. Not structuredClone: under Jest its copies
 * have another realm's Object.prototype, which the fast path (rightly) refuses
 * as not plain JSON, so every damaged copy would be refused whatever its damage.
 */
function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Every object inside `v`, with a setter to damage it in a copy. */
function objectsOf(v: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(v)) v.forEach((x) => objectsOf(x, out));
  else if (v && typeof v === 'object') {
    out.push(v as Json);
    Object.values(v).forEach((x) => objectsOf(x, out));
  }
  return out;
}

const DAMAGES: ((o: Json, key: string) => void)[] = [
  (o, k) => delete o[k],
  (o, k) => (o[k] = null),
  (o, k) => (o[k] = Array.isArray(o[k]) ? (o[k] as unknown[])[0] : [o[k]]),
  (o, k) => (o[k] = Array.isArray(o[k]) ? [] : typeof o[k] === 'object' ? {} : ''),
  (o, k) => (o[k] = typeof o[k] === 'string' ? ` ${o[k] as string}!x` : typeof o[k] === 'number' ? 1.5 : 'text'),
  (o, k) => (o[k] = typeof o[k] === 'number' ? -1 : typeof o[k] === 'boolean' ? 'true' : 12),
  (o, k) => (o[`_${k}`] = { extension: [{ url: 'http://example.org/x', valueString: 'x' }] }),
  (o, k) => (o[`${k}Extra`] = o[k]),
  (o, k) => (o[k] = Array.isArray(o[k]) ? [...(o[k] as unknown[]), null] : o[k]),
  (o, k) => (typeof o[k] === 'object' && o[k] !== null ? ((o[k] as Json).reference = 'Basic/1') : (o[k] = '2026-13-45')),
  (o) => (o.extension = [{ url: 'http://example.org/y', valueString: 'y', extension: [{ url: 'z', valueCode: 'z' }] }]),
  (o) => (o.contained = [{ resourceType: 'Basic', id: 'c', meta: { versionId: '1' }, code: { text: 'x' } }]),
];

/** Damaged copies: each damage applied to a few keys of a few objects, deterministically. */
function* damaged(r: Resource, budget: number): Generator<Resource> {
  const probe = objectsOf(clone(r));
  let made = 0;
  for (let i = 0; i < probe.length && made < budget; i += Math.max(1, Math.floor(probe.length / 12))) {
    const keys = Object.keys(probe[i]).filter((k) => k !== 'resourceType');
    for (const k of keys.slice(0, 4)) {
      for (const damage of DAMAGES) {
        const copy = clone(r);
        damage(objectsOf(copy)[i], k);
        made++;
        yield copy;
      }
    }
  }
}

test('whenever the fast path accepts a resource, intact or damaged, Medplum reports nothing', () => {
  expect(resources.length).toBeGreaterThan(300);
  // Damaging the large conformance resources too would take minutes: the
  // clinical and directory ones carry the shapes the writes send.
  const small = resources.filter((r) => JSON.stringify(r).length < 6000);
  expect(small.length).toBeGreaterThan(150);
  let accepted = 0;
  let checked = 0;
  const unsound: string[] = [];
  for (const r of resources) {
    for (const candidate of small.includes(r) ? [r, ...damaged(r, 100)] : [r]) {
      checked++;
      if (passesStructureFastPath(candidate)) {
        accepted++;
        if (medplumIssues(candidate) > 0) unsound.push(`${candidate.resourceType}: ${JSON.stringify(candidate).slice(0, 300)}`);
      }
    }
  }
  expect(unsound).toEqual([]);
  // The property is not vacuous: many candidates are accepted, many refused.
  expect(checked).toBeGreaterThan(10000);
  expect(accepted).toBeGreaterThan(500);
  expect(accepted).toBeLessThan(checked / 2);
});

test('the fast path accepts the valid resources it is there for (no primitive extensions)', () => {
  const valid = resources.filter((r) => JSON.stringify(r).length < 40000 && medplumIssues(r) === 0 && !JSON.stringify(r).includes('"_'));
  const refused = valid.filter((r) => !passesStructureFastPath(r)).map((r) => `${r.resourceType}/${r.id}`);
  expect(valid.length).toBeGreaterThan(200);
  expect(refused).toEqual([]);
});

test('the common damages are refused one by one', () => {
  const doc = JSON.parse(readFileSync(join(__dirname, '../../fixtures/profiles/documentreference-valid.json'), 'utf8')) as Json;
  expect(passesStructureFastPath(doc as unknown as Resource)).toBe(true);
  const cases: ((d: Json) => void)[] = [
    (d) => delete d.status,
    (d) => (d.unknownProperty = 1),
    (d) => (d.status = ''),
    (d) => (d.date = 'yesterday'),
    (d) => (d.content = (d.content as unknown[])[0]),
    (d) => (d.subject = { reference: 'Basic/1' }),
    (d) => (d.extension = [{ url: 'http://example.org/e' }]),
    (d) => (d._status = { extension: [] }),
    (d) => ((d.content as Json[])[0].attachment = {}),
  ];
  for (const damage of cases) {
    const copy = clone(doc);
    damage(copy);
    expect(passesStructureFastPath(copy as unknown as Resource)).toBe(false);
  }
});

test('the contained-resource invariants (dom-2, dom-4, dom-5) are refused as Medplum refuses them', () => {
  const doc = JSON.parse(readFileSync(join(__dirname, '../../fixtures/profiles/documentreference-valid.json'), 'utf8')) as Json;
  const contained = (d: Json) => (d.contained as Json[])[0];
  const meta = (d: Json) => contained(d).meta as Json;
  const cases: ((d: Json) => void)[] = [
    (d) => (contained(d).contained = [{ resourceType: 'Basic', id: 'b', code: { text: 'x' } }]),
    (d) => (meta(d).versionId = '1'),
    (d) => (meta(d).lastUpdated = '2024-01-01T00:00:00Z'),
    (d) => (meta(d).security = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }]),
    (d) => (contained(d).meta = { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] }),
  ];
  for (const damage of cases) {
    const copy = clone(doc);
    damage(copy);
    expect(passesStructureFastPath(copy as unknown as Resource)).toBe(false);
    expect(medplumIssues(copy as unknown as Resource)).toBeGreaterThan(0);
  }
});
