import type { Cursor, SearchPlan, SortKey } from '../../src/fhir/search/plan';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { cmp, dateIso, entry, matchRefs, plan, refs, Seeder, str } from './search-support';

const year = (y: number) => dateIso('birthdate', `${y}-01-01T00:00:00.000Z`, `${y}-12-31T23:59:59.999Z`);
const endOf = (y: number) => Date.parse(`${y}-12-31T23:59:59.999Z`);
const P = (...ids: string[]) => ids.map((id) => (id.includes('/') ? id : `Patient/${id}`));
const asc = (param: string): SortKey => ({ param, descending: false });
const desc = (param: string): SortKey => ({ param, descending: true });

/** Follows `next` (or `prev`) cursors from `start` and returns every page as refs. */
async function walk(store: ResourceStore, p: SearchPlan, way: 'next' | 'prev', start?: Cursor): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor = start;
  for (let i = 0; i < 20; i++) {
    const page = await store.search({ ...p, cursor });
    pages.push(refs(page.matches));
    cursor = page[way];
    if (!cursor) break;
  }
  return pages;
}

describe.each(STORES)('store search: sort, paging and total ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Patient', 'p01', [str('family', 'b'), year(2000)]);
    await s.put('Patient', 'p02', [str('family', 'a'), year(1990)]);
    await s.put('Patient', 'p03', [str('family', 'c')]);
    await s.put('Patient', 'p04', [year(1990)]);
    await s.put('Patient', 'p05', [str('family', 'a'), year(2010)]);
    await s.put('Patient', 'p06', [str('family', 'b'), year(1990)]);
    await s.put('Patient', 'p07', []);
    // Several values: ascending sorts use the lowest ('a'), descending the highest ('z').
    await s.put('Patient', 'p08', [str('family', 'a'), str('family', 'z'), year(1980)]);
    await s.put('Patient', 'p09', [str('family', 'a'), year(2000)]);
    await s.remove('Patient', 'p09');
    await s.put('Practitioner', 'pr1', [str('family', 'a')]);
    await s.put('Patient', 'p02', [str('family', 'a'), year(1990)]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  test('without _sort, matches come in Type/id order', async () => {
    expect(await matchRefs(store, plan('Patient'))).toEqual(P('p01', 'p02', 'p03', 'p04', 'p05', 'p06', 'p07', 'p08'));
  });

  test('one key: missing values first ascending, last descending, ties by Type/id', async () => {
    expect(await matchRefs(store, plan('Patient', [], { sort: [asc('family')] }))).toEqual(
      P('p04', 'p07', 'p02', 'p05', 'p08', 'p01', 'p06', 'p03'),
    );
    expect(await matchRefs(store, plan('Patient', [], { sort: [desc('family')] }))).toEqual(
      P('p08', 'p03', 'p01', 'p06', 'p02', 'p05', 'p04', 'p07'),
    );
  });

  test('several keys with mixed directions', async () => {
    expect(await matchRefs(store, plan('Patient', [], { sort: [asc('family'), desc('birthdate')] }))).toEqual(
      P('p04', 'p07', 'p05', 'p02', 'p08', 'p01', 'p06', 'p03'),
    );
    expect(await matchRefs(store, plan('Patient', [], { sort: [desc('family'), asc('birthdate')] }))).toEqual(
      P('p08', 'p03', 'p06', 'p01', 'p02', 'p05', 'p07', 'p04'),
    );
  });

  test('_id and _lastUpdated', async () => {
    expect(await matchRefs(store, plan('Patient', [], { sort: [desc('_id')] }))).toEqual(
      P('p08', 'p07', 'p06', 'p05', 'p04', 'p03', 'p02', 'p01'),
    );
    expect(await matchRefs(store, plan('Patient', [], { sort: [desc('_lastUpdated')] }))).toEqual(
      P('p02', 'p08', 'p07', 'p06', 'p05', 'p04', 'p03', 'p01'),
    );
    expect(await matchRefs(store, plan('Patient', [], { sort: [asc('_lastUpdated')], count: 2 }))).toEqual(P('p01', 'p03'));
  });

  test('keyset paging forward then backward, ties and missing values across page boundaries', async () => {
    const p = plan('Patient', [], { sort: [asc('family'), desc('birthdate')], count: 2 });
    const forward = await walk(store, p, 'next');
    expect(forward).toEqual([P('p04', 'p07'), P('p05', 'p02'), P('p08', 'p01'), P('p06', 'p03')]);
    const last = await store.search({ ...p, cursor: (await store.search({ ...p, cursor: undefined })).next });
    expect(refs(last.matches)).toEqual(P('p05', 'p02'));
    const lastPage = await store.search({ ...p, cursor: { direction: 'next', values: ['b', endOf(2000)], ref: 'Patient/p01' } });
    expect(refs(lastPage.matches)).toEqual(P('p06', 'p03'));
    expect(lastPage.next).toBeUndefined();
    const backward = await walk(store, p, 'prev', lastPage.prev);
    expect(backward).toEqual([P('p08', 'p01'), P('p05', 'p02'), P('p04', 'p07')]);
  });

  test('cursors carry the boundary row: ascending keys by low value, descending by high, null when missing', async () => {
    const p = plan('Patient', [], { sort: [asc('family'), desc('birthdate')], count: 3 });
    const first = await store.search(p);
    expect(refs(first.matches)).toEqual(P('p04', 'p07', 'p05'));
    expect(first.prev).toBeUndefined();
    expect(first.next).toEqual({ direction: 'next', values: ['a', endOf(2010)], ref: 'Patient/p05' });
    const second = await store.search({ ...p, cursor: first.next });
    expect(refs(second.matches)).toEqual(P('p02', 'p08', 'p01'));
    expect(second.prev).toEqual({ direction: 'prev', values: ['a', endOf(1990)], ref: 'Patient/p02' });
    expect(second.next).toEqual({ direction: 'next', values: ['b', endOf(2000)], ref: 'Patient/p01' });
    const back = await store.search({ ...p, cursor: second.prev });
    expect(refs(back.matches)).toEqual(P('p04', 'p07', 'p05'));
    expect(back.prev).toBeUndefined();
    expect(back.next?.ref).toBe('Patient/p05');
    const nulls = await store.search({ ...p, count: 2 });
    expect(nulls.next).toEqual({ direction: 'next', values: [null, null], ref: 'Patient/p07' });
  });

  test('_id and _lastUpdated cursors hold the id and the instant in ms', async () => {
    const p = plan('Patient', [], { sort: [desc('_lastUpdated'), asc('_id')], count: 1 });
    const first = await store.search(p);
    expect(first.next?.values[1]).toBe('p02');
    expect(typeof first.next?.values[0]).toBe('number');
    expect(refs((await store.search({ ...p, cursor: first.next })).matches)).toEqual(P('p08'));
  });

  test('count 0 returns the total only; the total ignores cursor and count', async () => {
    const onlyTotal = await store.search(plan('Patient', [], { count: 0, total: true }));
    expect(onlyTotal.matches).toEqual([]);
    expect(onlyTotal.total).toBe(8);
    expect(onlyTotal.next).toBeUndefined();
    const a = entry('string', 'family', [[cmp('value', 'eq', 'a')]]);
    const first = await store.search(plan('Patient', [a], { count: 2, total: true }));
    expect(first.total).toBe(3);
    const second = await store.search(plan('Patient', [a], { count: 2, total: true, cursor: first.next }));
    expect(refs(second.matches)).toEqual(P('p08'));
    expect(second.total).toBe(3);
    expect(second.next).toBeUndefined();
    expect((await store.search(plan('Patient', [a]))).total).toBeUndefined();
  });

  test('totalLimit: the total is given up to the limit and left out beyond it', async () => {
    const a = entry('string', 'family', [[cmp('value', 'eq', 'a')]]);
    expect((await store.search(plan('Patient', [a], { count: 1, total: true, totalLimit: 3 }))).total).toBe(3);
    expect((await store.search(plan('Patient', [a], { count: 1, total: true, totalLimit: 2 }))).total).toBeUndefined();
    expect((await store.search(plan('Patient', [], { count: 0, total: true, totalLimit: 8 }))).total).toBe(8);
    const beyond = await store.search(plan('Patient', [], { count: 2, total: true, totalLimit: 7 }));
    expect(beyond.total).toBeUndefined();
    expect(beyond.matches).toHaveLength(2);
  });

  test('_id condition and its negation', async () => {
    expect(await matchRefs(store, plan('Patient', [{ kind: 'id', ids: ['p03', 'p01', 'p09', 'nope'] }]))).toEqual(P('p01', 'p03'));
    expect(await matchRefs(store, plan('Patient', [{ kind: 'id', ids: ['p01', 'p02', 'p03', 'p04'], negate: true }]))).toEqual(
      P('p05', 'p06', 'p07', 'p08'),
    );
  });

  test('several types at once (system-level search), sorted and paged together', async () => {
    const a = entry('string', 'family', [[cmp('value', 'eq', 'a')]]);
    expect(await matchRefs(store, plan(['Practitioner', 'Patient', 'Organization'], [a]))).toEqual(
      P('p02', 'p05', 'p08', 'Practitioner/pr1'),
    );
    const sorted = plan(['Patient', 'Practitioner'], [a], { sort: [desc('family')], count: 2, total: true });
    expect(await walk(store, sorted, 'next')).toEqual([P('p08', 'p02'), P('p05', 'Practitioner/pr1')]);
    expect((await store.search(sorted)).total).toBe(4);
  });
});

describe.each(STORES)('store search: paging under concurrent writes ($name)', (fixture) => {
  let store: ResourceStore;
  let s: Seeder;
  beforeEach(async () => {
    store = await fixture.open();
    s = new Seeder(store);
    for (const id of ['p1', 'p3', 'p5', 'p7', 'p9']) {
      await s.put('Patient', id, [str('family', id)]);
    }
  });
  afterEach(async () => {
    await fixture.dispose(store);
  });

  test('rows inserted before the cursor are not seen, rows after it are, nothing repeats', async () => {
    const p = plan('Patient', [], { count: 2 });
    const first = await store.search(p);
    expect(refs(first.matches)).toEqual(P('p1', 'p3'));
    await s.put('Patient', 'p2', [str('family', 'p2')]);
    await s.put('Patient', 'p4', [str('family', 'p4')]);
    const second = await store.search({ ...p, cursor: first.next });
    expect(refs(second.matches)).toEqual(P('p4', 'p5'));
    await s.remove('Patient', 'p7');
    const third = await store.search({ ...p, cursor: second.next });
    expect(refs(third.matches)).toEqual(P('p9'));
    expect(third.next).toBeUndefined();
  });

  test('prev and next are given only when rows remain on that side', async () => {
    const p = plan('Patient', [], { count: 2 });
    const first = await store.search(p);
    await s.remove('Patient', 'p1');
    await s.remove('Patient', 'p3');
    const second = await store.search({ ...p, cursor: first.next });
    expect(refs(second.matches)).toEqual(P('p5', 'p7'));
    expect(second.prev).toBeUndefined();
    expect(second.next?.ref).toBe('Patient/p7');
    await s.remove('Patient', 'p9');
    const back = await store.search({ ...p, cursor: { direction: 'prev', values: [], ref: 'Patient/p9' } });
    expect(refs(back.matches)).toEqual(P('p5', 'p7'));
    expect(back.prev).toBeUndefined();
    expect(back.next).toBeUndefined();
  });

  test('a sorted page cursor survives a change to an earlier row', async () => {
    const p = plan('Patient', [], { count: 2, sort: [desc('family')] });
    const first = await store.search(p);
    expect(refs(first.matches)).toEqual(P('p9', 'p7'));
    // p1 moves to the top of the order: it was not seen and is now before the cursor.
    await s.put('Patient', 'p1', [str('family', 'zz')]);
    expect(refs((await store.search({ ...p, cursor: first.next })).matches)).toEqual(P('p5', 'p3'));
  });
});
