import type { ChainCondition, Condition, HasCondition } from '../../src/fhir/search/plan';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { cmp, entry, matchIds, ref, refIs, Seeder, str, tok, tokenIs } from './search-support';

const chain = (param: string, targetTypes: string[], where: Condition[]): ChainCondition => ({
  kind: 'chain',
  param,
  targetTypes,
  where,
});
const has = (sourceType: string, param: string, where: Condition[]): HasCondition => ({ kind: 'has', sourceType, param, where });
const family = (v: string) => entry('string', 'family', [[cmp('value', 'eq', v)]]);

describe.each(STORES)('store search: references, chains and _has ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Organization', 'org1', [str('name', 'Clinique A')]);
    await s.put('Organization', 'org2', [str('name', 'Hôpital B')]);
    await s.put('Patient', 'pat1', [str('family', 'Martin'), ref('organization', 'Organization/org1')]);
    await s.put('Patient', 'pat2', [str('family', 'Bernard'), ref('organization', 'Organization/org2')]);
    await s.put('Patient', 'pat3', [str('family', 'Martin'), ref('organization', 'Organization/org2')]);
    await s.remove('Patient', 'pat3');
    // Same id as a Patient, another type: chains and _has must keep types apart.
    await s.put('Group', 'pat1', [str('family', 'Martin')]);

    const obs = (id: string, subject: string, code: string, ...more: ReturnType<typeof ref>[]) =>
      s.put('Observation', id, [ref('subject', subject), tok('code', 'http://loinc.org', code), ...more]);
    await obs('obs1', 'Patient/pat1', '1234', ref('performer', null, { system: 'urn:rpps', value: '123' }));
    await obs('obs2', 'Patient/pat2', '1234', ref('performer', 'Practitioner/pr1', { system: 'urn:rpps', value: '456' }));
    await obs('obs3', 'Group/pat1', '5678');
    await obs('obs4', 'Patient/pat3', '1234');
    await obs('obs5', 'http://other.example/fhir/Patient/pat1', '1234');
    await obs('obs6', 'Patient/pat1', '5678');
    await s.remove('Observation', 'obs6');
    await obs('obs7', 'Patient/pat2', '9999');
    await obs('obs7', 'Patient/pat1', '9999');

    await s.put('DiagnosticReport', 'dr1', [tok('status', null, 'final'), ref('result', 'Observation/obs1'), ref('result', 'Observation/obs2')]);
    await s.put('DiagnosticReport', 'dr2', [tok('status', null, 'partial'), ref('result', 'Observation/obs3')]);
    await s.put('DiagnosticReport', 'dr3', [tok('status', null, 'final'), ref('result', 'Observation/obs4')]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  test('reference by Type/id, by id alone, by type, by absolute URL', async () => {
    expect(await matchIds(store, 'Observation', [refIs('subject', 'Patient/pat1')])).toEqual(['obs1', 'obs7']);
    expect(await matchIds(store, 'Observation', [refIs('subject', 'Patient/pat2')])).toEqual(['obs2']);
    expect(await matchIds(store, 'Observation', [entry('reference', 'subject', [[cmp('id', 'eq', 'pat1')]])])).toEqual([
      'obs1',
      'obs3',
      'obs7',
    ]);
    expect(await matchIds(store, 'Observation', [entry('reference', 'subject', [[cmp('type', 'eq', 'Group')]])])).toEqual([
      'obs3',
    ]);
    expect(await matchIds(store, 'Observation', [refIs('subject', 'http://other.example/fhir/Patient/pat1')])).toEqual(['obs5']);
    const list = entry('reference', 'subject', [[cmp('ref', 'in', ['Patient/pat2', 'Group/pat1'])]]);
    expect(await matchIds(store, 'Observation', [list])).toEqual(['obs2', 'obs3']);
  });

  test(':identifier matches system and value of the same reference', async () => {
    const ident = (system: string, value: string) =>
      entry('reference', 'performer', [[cmp('idSystem', 'eq', system), cmp('idValue', 'eq', value)]]);
    expect(await matchIds(store, 'Observation', [ident('urn:rpps', '123')])).toEqual(['obs1']);
    expect(await matchIds(store, 'Observation', [ident('urn:rpps', '456')])).toEqual(['obs2']);
    expect(await matchIds(store, 'Observation', [entry('reference', 'performer', [[cmp('ref', 'isNull')]])])).toEqual(['obs1']);
  });

  test('a chain follows the reference to a current resource of the target types', async () => {
    expect(await matchIds(store, 'Observation', [chain('subject', ['Patient'], [family('martin')])])).toEqual(['obs1', 'obs7']);
    expect(await matchIds(store, 'Observation', [chain('subject', ['Patient', 'Group'], [family('martin')])])).toEqual([
      'obs1',
      'obs3',
      'obs7',
    ]);
    expect(await matchIds(store, 'Observation', [chain('subject', ['Group'], [family('martin')])])).toEqual(['obs3']);
  });

  test('a chain without conditions needs an existing, non-deleted target', async () => {
    expect(await matchIds(store, 'Observation', [chain('subject', ['Patient'], [])])).toEqual(['obs1', 'obs2', 'obs7']);
  });

  test('a chain combines with other conditions, negated ones included', async () => {
    const notMartin = entry('string', 'family', [[cmp('value', 'eq', 'martin')]], true);
    expect(await matchIds(store, 'Observation', [chain('subject', ['Patient'], [notMartin])])).toEqual(['obs2']);
    expect(await matchIds(store, 'Observation', [chain('subject', ['Patient'], [family('martin')]), tokenIs('code', '9999')])).toEqual([
      'obs7',
    ]);
  });

  test('deleted targets and sources do not count, whichever condition drives the search', async () => {
    expect(await matchIds(store, 'Observation', [tokenIs('code', '1234'), chain('subject', ['Patient'], [family('martin')])])).toEqual([
      'obs1',
    ]);
    const name = (prefix: string) => entry('string', 'name', [[cmp('value', 'startsWith', prefix)]]);
    const martins = has('Patient', 'organization', [family('martin')]);
    expect(await matchIds(store, 'Organization', [name('hop'), martins])).toEqual([]);
    expect(await matchIds(store, 'Organization', [name('cli'), martins])).toEqual(['org1']);
  });

  test('chains two levels deep', async () => {
    const orgName = entry('string', 'name', [[cmp('value', 'startsWith', 'clinique')]]);
    const viaOrg = chain('subject', ['Patient'], [chain('organization', ['Organization'], [orgName])]);
    expect(await matchIds(store, 'Observation', [viaOrg])).toEqual(['obs1', 'obs7']);

    const viaResult = chain('result', ['Observation'], [chain('subject', ['Patient'], [family('martin')])]);
    expect(await matchIds(store, 'DiagnosticReport', [viaResult])).toEqual(['dr1']);
    const viaGroup = chain('result', ['Observation'], [chain('subject', ['Group'], [])]);
    expect(await matchIds(store, 'DiagnosticReport', [viaGroup])).toEqual(['dr2']);
  });

  test('_has: some current source resource references this one', async () => {
    expect(await matchIds(store, 'Patient', [has('Observation', 'subject', [tokenIs('code', '1234')])])).toEqual(['pat1', 'pat2']);
    // obs3 points at Group/pat1 and obs6 is deleted: neither makes Patient/pat1 match.
    expect(await matchIds(store, 'Patient', [has('Observation', 'subject', [tokenIs('code', '5678')])])).toEqual([]);
    expect(await matchIds(store, 'Group', [has('Observation', 'subject', [tokenIs('code', '5678')])])).toEqual(['pat1']);
    expect(await matchIds(store, 'Patient', [has('Observation', 'subject', [])])).toEqual(['pat1', 'pat2']);
  });

  test('_has ignores deleted sources', async () => {
    // pat3 (deleted) named Martin referenced org2: only org1 qualifies.
    expect(await matchIds(store, 'Organization', [has('Patient', 'organization', [family('martin')])])).toEqual(['org1']);
  });

  test('_has nested two levels, and combined with other conditions', async () => {
    const finalReport = has('DiagnosticReport', 'result', [tokenIs('status', 'final')]);
    expect(await matchIds(store, 'Patient', [has('Observation', 'subject', [finalReport])])).toEqual(['pat1', 'pat2']);
    expect(await matchIds(store, 'Patient', [has('Observation', 'subject', [finalReport]), family('martin')])).toEqual(['pat1']);
    const partial = has('DiagnosticReport', 'result', [tokenIs('status', 'partial')]);
    expect(await matchIds(store, 'Patient', [has('Observation', 'subject', [partial])])).toEqual([]);
    expect(await matchIds(store, 'Group', [has('Observation', 'subject', [partial])])).toEqual(['pat1']);
  });

  test('a chain inside _has and _has inside a chain', async () => {
    const toMartin = chain('subject', ['Patient'], [family('martin')]);
    expect(await matchIds(store, 'DiagnosticReport', [chain('result', ['Observation'], [toMartin])])).toEqual(['dr1']);
    const reported = has('DiagnosticReport', 'result', [tokenIs('status', 'final')]);
    expect(await matchIds(store, 'Observation', [chain('subject', ['Patient'], [has('Observation', 'subject', [reported])])])).toEqual([
      'obs1',
      'obs2',
      'obs7',
    ]);
  });
});
