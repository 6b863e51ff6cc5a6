import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { cmp, entry, matchIds, Seeder, str, tok, tokenIs, uri } from './search-support';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';

describe.each(STORES)('store search: tokens ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Observation', 'o1', [tok('code', LOINC, '1234', 'glucose'), tok('status', null, 'final')]);
    await s.put('Observation', 'o2', [tok('code', LOINC, '5678'), tok('code', SNOMED, '999'), tok('status', null, 'final')]);
    await s.put('Observation', 'o3', [tok('code', SNOMED, '1234', 'glycemie'), tok('status', null, 'amended')]);
    await s.put('Observation', 'o4', [tok('code', null, '1234')]);
    await s.put('Observation', 'o5', [tok('status', null, 'preliminary')]);
    await s.put('Observation', 'o6', [tok('code', LOINC, '5678'), tok('status', null, 'final')]);
    await s.remove('Observation', 'o6');
    await s.put('Observation', 'o7', [tok('code', LOINC, '1111'), tok('status', null, 'final')]);
    await s.put('Observation', 'o7', [tok('code', LOINC, '2222'), tok('status', null, 'final')]);
    // Same code in another type: a type-level search never sees it.
    await s.put('Condition', 'c1', [tok('code', LOINC, '1234')]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  test('code alone matches every system', async () => {
    expect(await matchIds(store, 'Observation', [tokenIs('code', '1234')])).toEqual(['o1', 'o3', 'o4']);
  });

  test('system|code matches that system only; |code matches entries without a system', async () => {
    expect(await matchIds(store, 'Observation', [tokenIs('code', '1234', LOINC)])).toEqual(['o1']);
    expect(await matchIds(store, 'Observation', [tokenIs('code', '1234', null)])).toEqual(['o4']);
  });

  test('system| matches any code of that system (updated resources by their new entries only)', async () => {
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('system', 'eq', LOINC)]])])).toEqual([
      'o1',
      'o2',
      'o7',
    ]);
  });

  test('in matches any listed value', async () => {
    const c = entry('token', 'code', [[cmp('code', 'in', ['1234', '5678', 'nothing'])]]);
    expect(await matchIds(store, 'Observation', [c])).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('code', 'in', [])]])])).toEqual([]);
  });

  test('OR of alternatives, each alternative holding on one and the same entry', async () => {
    const either = entry('token', 'code', [
      [cmp('system', 'eq', LOINC), cmp('code', 'eq', '5678')],
      [cmp('system', 'eq', SNOMED), cmp('code', 'eq', '1234')],
    ]);
    expect(await matchIds(store, 'Observation', [either])).toEqual(['o2', 'o3']);
    // o2 has SNOMED|999 and LOINC|5678: SNOMED|5678 is not one entry.
    expect(await matchIds(store, 'Observation', [tokenIs('code', '5678', SNOMED)])).toEqual([]);
  });

  test('repeated conditions are ANDed, each satisfied by any entry', async () => {
    expect(await matchIds(store, 'Observation', [tokenIs('code', '5678'), tokenIs('code', '999')])).toEqual(['o2']);
    expect(await matchIds(store, 'Observation', [tokenIs('code', '1234'), tokenIs('status', 'final')])).toEqual(['o1']);
  });

  test(':not keeps resources with no matching entry, including those without the parameter', async () => {
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('code', 'eq', '1234')]], true)])).toEqual([
      'o2',
      'o5',
      'o7',
    ]);
  });

  test(':missing=true and :missing=false', async () => {
    expect(await matchIds(store, 'Observation', [entry('token', 'status', [[]], true)])).toEqual(['o4']);
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[]])])).toEqual(['o1', 'o2', 'o3', 'o4', 'o7']);
  });

  test('an empty predicate is false and its negation true', async () => {
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [])])).toEqual([]);
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [], true)])).toEqual([
      'o1',
      'o2',
      'o3',
      'o4',
      'o5',
      'o7',
    ]);
  });

  test(':text compares the normalized display, case-sensitively', async () => {
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('text', 'startsWith', 'gl')]])])).toEqual([
      'o1',
      'o3',
    ]);
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('text', 'contains', 'cem')]])])).toEqual(['o3']);
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('text', 'startsWith', 'GL')]])])).toEqual([]);
  });

  test('notNull / isNull on a field', async () => {
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('text', 'notNull')]])])).toEqual(['o1', 'o3']);
    expect(await matchIds(store, 'Observation', [entry('token', 'code', [[cmp('system', 'isNull')]])])).toEqual(['o4']);
  });

  test('deleted resources never match', async () => {
    expect(await matchIds(store, 'Observation', [tokenIs('code', '5678', LOINC)])).toEqual(['o2']);
    expect(await matchIds(store, 'Observation', [])).not.toContain('o6');
  });

  test('an update replaces the index entries', async () => {
    expect(await matchIds(store, 'Observation', [tokenIs('code', '1111')])).toEqual([]);
    expect(await matchIds(store, 'Observation', [tokenIs('code', '2222')])).toEqual(['o7']);
  });
});

describe.each(STORES)('store search: strings and uris ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Patient', 'p1', [str('family', 'Dupont'), str('given', 'Élodie')]);
    await s.put('Patient', 'p2', [str('family', 'Dupond'), str('given', 'Jean')]);
    await s.put('Patient', 'p3', [str('family', 'DUPONT-Martin'), str('given', 'Zoé')]);
    await s.put('Patient', 'p4', [str('family', 'Durand')]);
    await s.put('Patient', 'p5', []);
    await s.put('Patient', 'p6', [str('family', 'Dupp')]);
    await s.put('ValueSet', 'v1', [uri('url', 'http://example.org/fhir/ValueSet/a')]);
    await s.put('ValueSet', 'v2', [uri('url', 'http://example.org/fhir/ValueSet/ab')]);
    await s.put('ValueSet', 'v3', [uri('url', 'http://example.org/other')]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  const family = (op: Parameters<typeof cmp>[1], value: Parameters<typeof cmp>[2], field: 'value' | 'exact' = 'value') =>
    entry('string', 'family', [[cmp(field, op, value)]]);

  test('startsWith is a prefix on the normalized value, bounded exactly', async () => {
    expect(await matchIds(store, 'Patient', [family('startsWith', 'dupon')])).toEqual(['p1', 'p2', 'p3']);
    // `dupp` is the first string after every `dupo...`: it must not match.
    expect(await matchIds(store, 'Patient', [family('startsWith', 'dupo')])).toEqual(['p1', 'p2', 'p3']);
    expect(await matchIds(store, 'Patient', [family('startsWith', 'dupont')])).toEqual(['p1', 'p3']);
    expect(await matchIds(store, 'Patient', [entry('string', 'given', [[cmp('value', 'startsWith', 'elo')]])])).toEqual(['p1']);
  });

  test('comparisons are case-sensitive (values are pre-normalized by the parser)', async () => {
    expect(await matchIds(store, 'Patient', [family('startsWith', 'DUPON')])).toEqual([]);
    expect(await matchIds(store, 'Patient', [family('contains', 'MARTIN')])).toEqual([]);
    expect(await matchIds(store, 'Patient', [family('eq', 'Dupont', 'exact')])).toEqual(['p1']);
    expect(await matchIds(store, 'Patient', [family('eq', 'dupont', 'exact')])).toEqual([]);
  });

  test('contains and eq', async () => {
    expect(await matchIds(store, 'Patient', [family('contains', 'martin')])).toEqual(['p3']);
    expect(await matchIds(store, 'Patient', [family('contains', 'u')])).toEqual(['p1', 'p2', 'p3', 'p4', 'p6']);
    expect(await matchIds(store, 'Patient', [family('eq', 'dupont')])).toEqual(['p1']);
  });

  test('lt / le / gt / ge compare by code point', async () => {
    expect(await matchIds(store, 'Patient', [family('lt', 'dupont')])).toEqual(['p2']);
    expect(await matchIds(store, 'Patient', [family('le', 'dupont')])).toEqual(['p1', 'p2']);
    expect(await matchIds(store, 'Patient', [family('gt', 'dupont')])).toEqual(['p3', 'p4', 'p6']);
    expect(await matchIds(store, 'Patient', [family('ge', 'dupp')])).toEqual(['p4', 'p6']);
    expect(await matchIds(store, 'Patient', [family('lt', 'DZZ', 'exact')])).toEqual(['p3']);
  });

  test('in on strings; :missing on strings', async () => {
    expect(await matchIds(store, 'Patient', [family('in', ['durand', 'dupp', 'x'])])).toEqual(['p4', 'p6']);
    expect(await matchIds(store, 'Patient', [entry('string', 'family', [[]], true)])).toEqual(['p5']);
    expect(await matchIds(store, 'Patient', [entry('string', 'given', [[]], true)])).toEqual(['p4', 'p5', 'p6']);
  });

  test('uri: exact match and :below as a prefix', async () => {
    const url = (op: Parameters<typeof cmp>[1], v: string) => entry('uri', 'url', [[cmp('value', op, v)]]);
    expect(await matchIds(store, 'ValueSet', [url('eq', 'http://example.org/fhir/ValueSet/a')])).toEqual(['v1']);
    expect(await matchIds(store, 'ValueSet', [url('startsWith', 'http://example.org/fhir/')])).toEqual(['v1', 'v2']);
    expect(await matchIds(store, 'ValueSet', [url('startsWith', 'http://example.org/fhir/ValueSet/a')])).toEqual(['v1', 'v2']);
    expect(await matchIds(store, 'ValueSet', [url('contains', 'other')])).toEqual(['v3']);
  });
});
