import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { cmp, entry, matchIds, plan, Seeder, str, tok, uri } from './search-support';

/**
 * Values in a plan are data. Strings that mean something to SQL, to MongoDB
 * query operators, to LIKE or to regular expressions must match only
 * themselves, literally.
 */
const NASTY = {
  b1: "' OR 1=1 --",
  b2: '{"$gt":""}',
  b3: 'a%c',
  b4: 'a_c',
  b5: 'abc',
  b6: 'a.*c',
  b7: 'a\\c',
  b8: '^a$',
  b9: '"; DROP TABLE resource; --',
  b10: 'a[b]c(d)|e+?',
} as const;

describe.each(STORES)('store search: injection-looking values are data ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    for (const [id, v] of Object.entries(NASTY)) {
      await s.put('Basic', id, [tok('code', 'urn:x', v), str('text', v), uri('url', v)]);
    }
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  const text = (op: Parameters<typeof cmp>[1], v: Parameters<typeof cmp>[2]) =>
    matchIds(store, 'Basic', [entry('string', 'text', [[cmp('exact', op, v)]])]);
  const code = (op: Parameters<typeof cmp>[1], v: Parameters<typeof cmp>[2]) =>
    matchIds(store, 'Basic', [entry('token', 'code', [[cmp('code', op, v)]])]);

  test('SQL-looking token values match only themselves', async () => {
    expect(await code('eq', NASTY.b1)).toEqual(['b1']);
    expect(await code('eq', NASTY.b9)).toEqual(['b9']);
    expect(await code('eq', "' OR '1'='1")).toEqual([]);
    expect(await code('in', [NASTY.b1, '*', '%'])).toEqual(['b1']);
  });

  test('MongoDB operator-looking values match only themselves', async () => {
    expect(await code('eq', NASTY.b2)).toEqual(['b2']);
    expect(await code('eq', '{"$ne":null}')).toEqual([]);
    expect(await code('in', ['{"$ne":null}', NASTY.b2])).toEqual(['b2']);
  });

  test('LIKE wildcards are literal in startsWith and contains', async () => {
    expect(await text('startsWith', 'a%')).toEqual(['b3']);
    expect(await text('startsWith', 'a_')).toEqual(['b4']);
    expect(await text('contains', '%')).toEqual(['b3']);
    expect(await text('contains', '_')).toEqual(['b4']);
    expect(await code('eq', '%')).toEqual([]);
  });

  test('regular-expression metacharacters are literal', async () => {
    expect(await text('startsWith', 'a.')).toEqual(['b6']);
    expect(await text('contains', '.*')).toEqual(['b6']);
    expect(await text('startsWith', '^')).toEqual(['b8']);
    expect(await text('contains', 'a$')).toEqual(['b8']);
    expect(await text('contains', '$')).toEqual(['b2', 'b8']);
    expect(await text('contains', '\\')).toEqual(['b7']);
    expect(await text('contains', '[b]')).toEqual(['b10']);
    expect(await text('startsWith', 'a[b]c(d)|e+')).toEqual(['b10']);
    expect(await text('eq', 'a.*c')).toEqual(['b6']);
    expect(await text('startsWith', '.')).toEqual([]);
  });

  test('uri values with metacharacters', async () => {
    expect(await matchIds(store, 'Basic', [entry('uri', 'url', [[cmp('value', 'startsWith', 'a')]])])).toEqual([
      'b10',
      'b3',
      'b4',
      'b5',
      'b6',
      'b7',
    ]);
    expect(await matchIds(store, 'Basic', [entry('uri', 'url', [[cmp('value', 'eq', 'a_c')]])])).toEqual(['b4']);
  });

  test('ids and types are data too', async () => {
    expect(await matchIds(store, 'Basic', [{ kind: 'id', ids: ["b1' OR 1=1 --", 'b2'] }])).toEqual(['b2']);
    expect((await store.search(plan(["Basic' OR 1=1 --"], []))).matches).toEqual([]);
  });

  test('parameter names, sort keys and include specs are data too', async () => {
    const all = Object.keys(NASTY).sort();
    expect(await matchIds(store, 'Basic', [entry('token', "code' OR 1=1 --", [[]])])).toEqual([]);
    expect(await matchIds(store, 'Basic', [entry('token', "code' OR 1=1 --", [[]], true)])).toEqual(all);
    const sorted = await store.search(plan('Basic', [], { sort: [{ param: "text') --", descending: true }] }));
    expect(sorted.matches.map((m) => m.id).sort()).toEqual(all);
    const inc = await store.search(
      plan('Basic', [], { include: [{ sourceType: 'Basic', param: "code' OR 1=1 --", targetType: '{"$gt":""}', iterate: true }] }),
    );
    expect(inc.included).toEqual([]);
  });

  test('the database is intact afterwards', async () => {
    expect(await matchIds(store, 'Basic', [])).toHaveLength(Object.keys(NASTY).length);
  });
});
