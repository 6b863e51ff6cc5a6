import type { IndexEntry } from '../../src/fhir/search/index-entry';
import type { Condition } from '../../src/fhir/search/plan';
import { toIdx } from '../../src/store/mongo/documents';
import { prefixUpperBound, type Filter } from '../../src/store/mongo/filter';
import { matches, relax } from '../../src/store/mongo/filter-eval';
import { compileWhere, type SubqueryResolver } from '../../src/store/mongo/search-compile';

/**
 * The MongoDB search compiler's output, and the JavaScript evaluator of
 * MongoDB semantics the adapter relies on where FerretDB 1.x cannot
 * evaluate `$elemMatch` (src/store/mongo/filter-eval.ts).
 */
const noSubqueries: SubqueryResolver = {
  refsOf: async () => {
    throw new Error('no sub-queries here');
  },
  targetsOf: async () => {
    throw new Error('no sub-queries here');
  },
};
const compile = (where: Condition[], types = ['Observation']) => compileWhere(types, where, noSubqueries);
const code = (value: string, system?: string): Condition => ({
  kind: 'entry',
  entryKind: 'token',
  param: 'code',
  predicate: [system === undefined ? [{ field: 'code', op: 'eq', value }] : [{ field: 'system', op: 'eq', value: system }, { field: 'code', op: 'eq', value }]],
});

describe('mongo search compiler: filter shapes', () => {
  test('a token condition is one $elemMatch on (param, kind, fields), which the compound multikey index bounds', async () => {
    expect(await compile([code('8480-6', 'http://loinc.org')])).toEqual({
      type: { $eq: 'Observation' },
      deleted: { $eq: false },
      idx: { $elemMatch: { p: { $eq: 'code' }, k: { $eq: 'token' }, system: { $eq: 'http://loinc.org' }, code: { $eq: '8480-6' } } },
    });
  });

  test('DNF alternatives are separate $elemMatch branches; negation is $nor; startsWith is a range, not a regex', async () => {
    const f = await compile([
      {
        kind: 'entry',
        entryKind: 'string',
        param: 'name',
        predicate: [[{ field: 'value', op: 'startsWith', value: 'ab' }], [{ field: 'exact', op: 'eq', value: 'X' }]],
        negate: true,
      },
    ]);
    expect(f.$nor).toEqual([
      {
        $or: [
          { idx: { $elemMatch: { p: { $eq: 'name' }, k: { $eq: 'string' }, value: { $gte: 'ab', $lt: 'ac' } } } },
          { idx: { $elemMatch: { p: { $eq: 'name' }, k: { $eq: 'string' }, exact: { $eq: 'X' } } } },
        ],
      },
    ]);
  });

  test('object values and unknown fields are refused instead of becoming operators', async () => {
    const sneaky = { kind: 'entry', entryKind: 'token', param: 'code', predicate: [[{ field: 'code', op: 'eq', value: { $ne: null } }]] };
    await expect(compile([sneaky as unknown as Condition])).rejects.toThrow(/string or a finite number/);
    const field = { kind: 'entry', entryKind: 'token', param: 'code', predicate: [[{ field: '$where', op: 'eq', value: 'x' }]] };
    await expect(compile([field as unknown as Condition])).rejects.toThrow(/not a field of token entries/);
    await expect(compile([], [{ $gt: '' } as unknown as string])).rejects.toThrow(/string or a finite number/);
  });

  test('prefix upper bounds follow code point order', () => {
    expect(prefixUpperBound('ab')).toBe('ac');
    expect(prefixUpperBound('a\u{10FFFF}')).toBe('b');
    expect(prefixUpperBound('\u{D7FF}')).toBe('\u{E000}');
    expect(prefixUpperBound('\u{FFFF}')).toBe('\u{10000}');
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('\u{10FFFF}')).toBeUndefined();
  });
});

describe('mongo filter evaluator: MongoDB semantics', () => {
  const doc = (entries: IndexEntry[]) => ({ _id: 'Observation/o1', type: 'Observation', deleted: false, idx: toIdx(entries) });
  const tok = (c: string, s: string | null): IndexEntry => ({ kind: 'token', param: 'code', system: s, code: c, text: null });

  test('$elemMatch ties the comparisons to one entry; plain paths do not', async () => {
    const d = doc([tok('x', null), tok('y', 'http://s')]);
    expect(matches(await compile([code('y', 'http://s')]), d)).toBe(true);
    expect(matches(await compile([code('x', 'http://s')]), d)).toBe(false);
    expect(matches({ 'idx.code': { $eq: 'x' }, 'idx.system': { $eq: 'http://s' } }, d)).toBe(true);
  });

  test('composite parts must come from the same combination', async () => {
    const d = doc([
      {
        kind: 'composite',
        param: 'combo',
        parts: [
          { kind: 'token', param: 'code', system: null, code: 'a', text: null },
          { kind: 'quantity', param: 'value', value: 5, low: 4.5, high: 5.5, system: null, code: null, unit: null },
        ],
      },
      {
        kind: 'composite',
        param: 'combo',
        parts: [
          { kind: 'token', param: 'code', system: null, code: 'b', text: null },
          { kind: 'quantity', param: 'value', value: 50, low: 49.5, high: 50.5, system: null, code: null, unit: null },
        ],
      },
    ]);
    const combo = (c: string, gt: number): Condition => ({
      kind: 'composite',
      param: 'combo',
      anyOf: [
        [
          { entryKind: 'token', predicate: [[{ field: 'code', op: 'eq', value: c }]] },
          { entryKind: 'quantity', predicate: [[{ field: 'value', op: 'gt', value: gt }]] },
        ],
      ],
    });
    expect(matches(await compile([combo('b', 10)]), d)).toBe(true);
    expect(matches(await compile([combo('a', 10)]), d)).toBe(false);
  });

  test('null matches a missing field; comparisons stay within a type; strings compare by code point', () => {
    expect(matches({ a: { $eq: null } }, {})).toBe(true);
    expect(matches({ a: { $ne: null } }, { a: null })).toBe(false);
    expect(matches({ a: { $gt: 1 } }, { a: 'x' })).toBe(false);
    expect(matches({ a: { $lt: 'x' } }, { a: 1 })).toBe(false);
    // U+1F600 is one code point above U+FFFD, though its UTF-16 units sort below.
    expect(matches({ a: { $gt: '\uFFFD' } }, { a: '\u{1F600}' })).toBe(true);
    expect(matches({ $nor: [{ a: { $eq: 1 } }] }, { a: 2 })).toBe(true);
  });

  test('relax() keeps a superset: every document the exact filter matches, the relaxed one matches', async () => {
    const docs = [doc([]), doc([tok('x', null)]), doc([tok('y', 'http://s'), tok('x', 'http://s')]), { ...doc([]), deleted: true }];
    const conditions: Condition[][] = [
      [code('x')],
      [code('x', 'http://s')],
      [{ ...(code('y') as Condition & { kind: 'entry' }), negate: true }],
      [{ kind: 'id', ids: ['o1'], negate: true }, code('y')],
      [{ kind: 'entry', entryKind: 'token', param: 'code', predicate: [[{ field: 'system', op: 'isNull' }], [{ field: 'code', op: 'contains', value: 'y' }]] }],
    ];
    let exactHits = 0;
    for (const where of conditions) {
      const f = await compile(where);
      for (const d of docs) {
        if (matches(f, d)) {
          exactHits++;
          expect(matches(relax(f), d)).toBe(true);
        }
      }
      expect(JSON.stringify(relax(f))).not.toContain('$elemMatch');
    }
    expect(exactHits).toBeGreaterThan(3);
  });
});
