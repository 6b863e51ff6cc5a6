import type { IndexEntry } from '../../src/fhir/search/index-entry';
import type { AnyOfCondition, Condition } from '../../src/fhir/search/plan';
import { WhereCompiler, type Scope } from '../../src/store/sqlite/search-where';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { plan, ref, tok } from './search-support';

/**
 * SQLite only: the compiled access restriction (an `anyOf`) is cached by
 * list identity and scope. The cache must never change what a query means:
 * the text is the same whether it was compiled now or earlier, another list
 * or scope is compiled afresh, and a cached fragment may sit next to other
 * compiled conditions, or inside a chain of the same query, without alias clashes.
 * @see https://hl7.org/fhir/R4/search.html#combining
 */
const masked = (negate: boolean): Condition => ({
  kind: 'entry',
  entryKind: 'token',
  param: 'dmp-label',
  predicate: [[{ field: 'code', op: 'eq', value: 'MASQUE_PS' }]],
  ...(negate ? { negate } : {}),
});
const ofPatient = (id: string): Condition => ({ kind: 'entry', entryKind: 'reference', param: 'dmp-patient', predicate: [[{ field: 'ref', op: 'in', value: [`Patient/${id}`] }]] });
const restriction = (): AnyOfCondition => ({
  kind: 'anyOf',
  alternatives: [
    [ofPatient('A'), masked(true)],
    [{ kind: 'has', sourceType: 'Observation', param: 'derived-from', where: [ofPatient('A')] }],
  ],
});
const scope: Scope = { alias: 'r', types: ['DocumentReference'] };

describe('compiled access restrictions (SQLite)', () => {
  test('the same list in the same scope is compiled once; its text does not depend on the cache', () => {
    const list = restriction();
    const first = new WhereCompiler().checks(scope, [list]);
    const second = new WhereCompiler().checks(scope, [list]);
    expect(second).toBe(first);
    // An equal list of another identity is compiled afresh, to the same text and arguments.
    const fresh = new WhereCompiler().checks(scope, [restriction()]);
    expect(fresh).not.toBe(first);
    expect(fresh).toEqual(first);
    expect(first.sql).toContain('EXISTS');
  });

  test('another scope gets its own compilation', () => {
    const list = restriction();
    const inR = new WhereCompiler().checks(scope, [list]);
    const inT = new WhereCompiler().checks({ alias: 't9', types: ['DocumentReference'] }, [list]);
    expect(inT).not.toBe(inR);
    expect(inT.sql).toContain('t9.');
    expect(inR.sql).not.toContain('t9.');
  });

  test('next to other conditions, the text is the same cached or not', () => {
    const list = restriction();
    const compile = (l: AnyOfCondition) => new WhereCompiler().checks(scope, [masked(false), l, { kind: 'has', sourceType: 'Observation', param: 'derived-from', where: [] }]);
    const cold = compile(list);
    const warm = compile(list);
    expect(warm).toEqual(cold);
    expect(compile(restriction())).toEqual(cold);
  });

  test('a cached restriction at the top and inside a chain of one query gives the right rows', async () => {
    const store = new SqliteStore({ dataDir: '', fileName: ':memory:' });
    await store.init();
    const put = (type: string, id: string, index: IndexEntry[]) =>
      store.write({
        type,
        id,
        versionId: 1,
        expectedVersion: 0,
        lastUpdated: '2026-01-01T00:00:00.000Z',
        method: 'POST',
        deleted: false,
        json: JSON.stringify({ resourceType: type, id }),
        index,
      });
    // d1 masked (of A), d2 visible (of A), d3 of B; o1 derives from d1, o2 from d2; o3 from d3 and names A.
    await put('DocumentReference', 'd1', [ref('dmp-patient', 'Patient/A'), tok('dmp-label', null, 'MASQUE_PS')]);
    await put('DocumentReference', 'd2', [ref('dmp-patient', 'Patient/A')]);
    await put('DocumentReference', 'd3', [ref('dmp-patient', 'Patient/B')]);
    await put('Observation', 'o1', [ref('dmp-patient', 'Patient/A'), ref('derived-from', 'DocumentReference/d1')]);
    await put('Observation', 'o2', [ref('dmp-patient', 'Patient/A'), ref('derived-from', 'DocumentReference/d2')]);
    await put('Observation', 'o3', [ref('dmp-patient', 'Patient/A'), ref('derived-from', 'DocumentReference/d3')]);
    const list = restriction();
    const visibleObservation: Condition = { kind: 'anyOf', alternatives: [[ofPatient('A')]] };
    const chained: Condition = { kind: 'chain', param: 'derived-from', targetTypes: ['DocumentReference'], where: [list] };
    const ids = async (where: Condition[], types = ['Observation']) => (await store.search(plan(types, where, { total: true }))).matches.map((m) => m.id).sort();
    // d1 is masked but has an Observation of A (second alternative); d3 has one too; d2 is of A, unmasked.
    expect(await ids([list], ['DocumentReference'])).toEqual(['d1', 'd2', 'd3']);
    for (let round = 0; round < 2; round++) {
      expect(await ids([visibleObservation, chained])).toEqual(['o1', 'o2', 'o3']);
      expect(await ids([chained, { kind: 'chain', param: 'derived-from', targetTypes: ['DocumentReference'], where: [list, masked(false)] }])).toEqual(['o1']);
    }
    const narrow: AnyOfCondition = { kind: 'anyOf', alternatives: [[ofPatient('A'), masked(true)]] };
    expect(await ids([{ kind: 'chain', param: 'derived-from', targetTypes: ['DocumentReference'], where: [narrow] }, chained])).toEqual(['o2']);
    await store.close();
  });
});
