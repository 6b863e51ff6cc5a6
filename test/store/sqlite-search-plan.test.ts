import type { IndexEntry } from '../../src/fhir/search/index-entry';
import type { Condition, SearchPlan } from '../../src/fhir/search/plan';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { cmp, composite, dateIso, entry, plan, qty, ref, refIs, refs, str, tok, tokenIs } from './search-support';

/**
 * SQLite only: the compiled searches must reach their rows through indexes.
 * EXPLAIN QUERY PLAN of every statement a search runs may not contain a SCAN
 * of a table (json_each, the bound value lists, is fine) nor read a whole type
 * through resource(type, deleted, ...) when a condition has an index.
 * @see https://hl7.org/fhir/R4/search.html
 */
const PATIENTS = 300;
const PER_PATIENT = 10;
const CODES = ['718-7', '2345-7', '2160-0', '6690-2', '789-8'];

let store: SqliteStore;
let captured: string[] = [];

beforeAll(async () => {
  store = new SqliteStore({ dataDir: '', fileName: ':memory:' });
  await store.init();
  const writes: Promise<void>[] = [];
  const put = (type: string, id: string, index: IndexEntry[]) =>
    writes.push(
      store.write({
        type,
        id,
        versionId: 1,
        expectedVersion: 0,
        lastUpdated: new Date(Date.UTC(2025, 0, 1) + writes.length * 1000).toISOString(),
        method: 'POST',
        deleted: false,
        json: JSON.stringify({ resourceType: type, id }),
        index,
      }),
    );
  for (let p = 0; p < PATIENTS; p++) {
    put('Patient', `p${p}`, [str('family', `Family${p}`)]);
    for (let o = 0; o < PER_PATIENT; o++) {
      put('Observation', `o${p}-${o}`, [
        ref('subject', `Patient/p${p}`),
        tok('code', 'http://loinc.org', CODES[o % CODES.length]),
        tok('status', null, o === 3 ? 'amended' : 'final'),
        dateIso('date', new Date(Date.UTC(2020, 0, 1) + (p * PER_PATIENT + o) * 3600_000).toISOString()),
        composite(
          'component-code-value-quantity',
          tok('component-code', 'http://loinc.org', '8480-6'),
          qty('component-value-quantity', 100 + o),
        ),
      ]);
    }
    const results = [ref('result', `Observation/o${p}-0`), ref('result', `Observation/o${p}-1`)];
    put('DiagnosticReport', `d${p}`, [ref('subject', `Patient/p${p}`), ...results]);
  }
  await Promise.all(writes);
  // Record every statement the search runs, to explain them afterwards.
  const statement = store.statement.bind(store);
  store.statement = (sql: string) => {
    captured.push(sql);
    return statement(sql);
  };
});

afterAll(async () => {
  await store.close();
});

/** Runs the plan and returns the query plan lines of every statement it used. */
async function explain(p: SearchPlan): Promise<{ page: Awaited<ReturnType<SqliteStore['search']>>; lines: string[] }> {
  captured = [];
  const page = await store.search(p);
  const lines = captured.flatMap((sql) => {
    const params = (sql.match(/\?/g) ?? []).map(() => null);
    return (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
  });
  return { page, lines };
}

function expectIndexed(lines: string[]): void {
  // A SCAN of json_each (a bound value list) or of a subquery result (its own lines are checked too) reads no table.
  const scans = lines.filter((l) => /^SCAN /.test(l) && !/^SCAN (json_each|\(subquery-\d+\))/.test(l));
  const typeScans = lines.filter((l) => /INDEX resource_type_\w+ \(type=\? AND deleted=\?\)$/.test(l));
  expect({ scans, typeScans }).toEqual({ scans: [], typeScans: [] });
}

const patient = (p: number): Condition => refIs('subject', `Patient/p${p}`);

describe('sqlite search: query plans use indexes', () => {
  test('reference + token (Observation?subject=X&code=Y)', async () => {
    const { page, lines } = await explain(plan('Observation', [patient(42), tokenIs('code', CODES[1], 'http://loinc.org')]));
    expect(refs(page.matches)).toEqual(['Observation/o42-1', 'Observation/o42-6']);
    expectIndexed(lines);
    expect(lines).toContainEqual(expect.stringMatching(/ix_reference_ref\w* \(type=\? AND param=\? AND ref=\?\)/));
    expect(lines).toContainEqual(expect.stringMatching(/SEARCH r USING INTEGER PRIMARY KEY/));
  });

  test('token alone, narrow enough to drive', async () => {
    const none = entry('token', 'code', [[cmp('code', 'eq', 'nothing-like-this')]]);
    const { page, lines } = await explain(plan('Observation', [none], { total: true }));
    expect(page.total).toBe(0);
    expectIndexed(lines);
    expect(lines).toContainEqual(expect.stringMatching(/ix_token_code\w* \(type=\? AND param=\? AND code=\?\)/));
  });

  test('value lists, id lists and several types', async () => {
    const codes = entry('token', 'code', [[cmp('code', 'in', ['nope', 'none'])]]);
    const byList = await explain(plan(['Observation', 'DiagnosticReport'], [codes], { total: true }));
    expect(byList.page.total).toBe(0);
    expectIndexed(byList.lines);
    const subjects = entry('reference', 'subject', [[cmp('ref', 'in', ['Patient/p1', 'Patient/p2'])]]);
    const both = await explain(plan(['Observation', 'DiagnosticReport'], [subjects], { count: 3 }));
    expect(refs(both.page.matches)).toEqual(['DiagnosticReport/d1', 'DiagnosticReport/d2', 'Observation/o1-0']);
    expectIndexed(both.lines);
    const ids = await explain(plan('Patient', [{ kind: 'id', ids: ['p3', 'p4', 'zz'] }]));
    expect(refs(ids.page.matches)).toEqual(['Patient/p3', 'Patient/p4']);
    expectIndexed(ids.lines);
    expect(ids.lines).toContainEqual(expect.stringMatching(/resource_key \(type=\? AND id=\?\)/));
    // Writes are one second apart, 12 per patient: o299-8 and o299-9 are the 3598th and 3599th.
    const since = Date.UTC(2025, 0, 1) + 3597 * 1000;
    const recent = await explain(plan('Observation', [{ kind: 'lastUpdated', predicate: [[cmp('low', 'ge', since)]] }]));
    expect(recent.page.matches.map((m) => m.id)).toEqual(['o299-8', 'o299-9']);
    expectIndexed(recent.lines);
    expect(recent.lines).toContainEqual(expect.stringMatching(/resource_type_lu \(type=\? AND deleted=\? AND last_updated_ms>\?\)/));
  });

  test('string prefix is an index range, not LIKE', async () => {
    const { page, lines } = await explain(plan('Patient', [entry('string', 'family', [[cmp('value', 'startsWith', 'family12')]])]));
    expect(page.matches.map((m) => m.id).sort()).toEqual(['p12', ...Array.from({ length: 10 }, (_, i) => `p12${i}`)].sort());
    expectIndexed(lines);
    expect(lines).toContainEqual(expect.stringMatching(/ix_string_value\w* \(type=\? AND param=\? AND value>\? AND value<\?\)/));
  });

  test('date range reads a closed index range', async () => {
    const low = Date.UTC(2020, 0, 2);
    const high = Date.UTC(2020, 0, 2, 5) - 1;
    const { page, lines } = await explain(plan('Observation', [entry('date', 'date', [[cmp('low', 'ge', low), cmp('high', 'le', high)]])]));
    expect(page.matches).toHaveLength(5);
    expectIndexed(lines);
    expect(lines).toContainEqual(expect.stringMatching(/ix_date_(low|high)\w* \(type=\? AND param=\? AND (low|high)>\? AND (low|high)<\?\)/));
  });

  test('a two-sided date range (ge and lt) reads bounded low ranges of the span index, not half of ix_date', async () => {
    const day = (d: number) => Date.UTC(2020, 0, d);
    const inside = [cmp('low', 'ge', day(2)), cmp('high', 'le', day(3) - 1)];
    const ge = entry('date', 'date', [[cmp('high', 'gt', day(3) - 1)], inside]);
    const lt = entry('date', 'date', [[cmp('low', 'lt', day(3))]]);
    // One Observation per hour from 2020-01-01T00:00Z: the 24 of 2020-01-02.
    const { page, lines } = await explain(plan('Observation', [ge, lt], { total: true, count: 5 }));
    expect(page.total).toBe(24);
    expect(page.matches.map((m) => m.id)).toEqual(['o2-4', 'o2-5', 'o2-6', 'o2-7', 'o2-8']);
    expectIndexed(lines);
    const bounded = /ix_date_span_low \(type=\? AND param=\? AND span=\? AND low>\? AND low<\?\)/;
    expect(lines).toContainEqual(expect.stringMatching(bounded));
    expect(lines.filter((l) => /ix_date_(low|high)/.test(l))).toEqual([]);
    // A reference equality still drives: it singles out one patient's data.
    const mine = await explain(plan('Observation', [ge, lt, patient(2)]));
    expect(mine.page.matches.map((m) => m.id)).toEqual(['o2-4', 'o2-5', 'o2-6', 'o2-7', 'o2-8', 'o2-9']);
    expectIndexed(mine.lines);
    expect(mine.lines).toContainEqual(expect.stringMatching(/ix_reference_ref\w* \(type=\? AND param=\? AND ref=\?\)/));
    expect(mine.lines.filter((l) => /ix_date_span_low/.test(l))).toEqual([]);
  });

  test('a two-sided _lastUpdated range is one bounded range of resource(type, deleted, last_updated_ms)', async () => {
    const t0 = Date.UTC(2025, 0, 1);
    // `ge` on an instant is an OR (after it, or at it): alone it would not be one index range.
    const second = [cmp('low', 'ge', t0), cmp('high', 'le', t0 + 999)];
    const ge = { kind: 'lastUpdated' as const, predicate: [[cmp('high', 'gt', t0 + 999)], second] };
    const lt = { kind: 'lastUpdated' as const, predicate: [[cmp('low', 'lt', t0 + 3000)]] };
    const { page, lines } = await explain(plan(['Patient', 'Observation'], [ge, lt], { total: true }));
    expect(page.total).toBe(3);
    expect(refs(page.matches)).toEqual(['Observation/o0-0', 'Observation/o0-1', 'Patient/p0']);
    expectIndexed(lines);
    expect(lines).toContainEqual(
      expect.stringMatching(/resource_type_lu \(type=\? AND deleted=\? AND last_updated_ms>\? AND last_updated_ms<\?\)/),
    );
  });

  test('sorted, counted and paged by a keyset cursor', async () => {
    const p = plan('Observation', [patient(7)], { sort: [{ param: 'date', descending: true }], count: 3, total: true });
    const first = await store.search(p);
    const { page, lines } = await explain({ ...p, cursor: first.next });
    expect(page.total).toBe(PER_PATIENT);
    expect(page.matches.map((m) => m.id)).toEqual(['o7-6', 'o7-5', 'o7-4']);
    expectIndexed(lines);
  });

  test('composite, chain and _has', async () => {
    const cvq = {
      kind: 'composite' as const,
      param: 'component-code-value-quantity',
      anyOf: [
        [
          { entryKind: 'token' as const, predicate: [[cmp('code', 'eq', '8480-6')]] },
          { entryKind: 'quantity' as const, predicate: [[cmp('value', 'ge', 109)]] },
        ],
      ],
    };
    const family3 = entry('string', 'family', [[cmp('value', 'eq', 'family3')]]);
    const chained = { kind: 'chain' as const, param: 'subject', targetTypes: ['Patient'], where: [family3] };
    const c = await explain(plan('Observation', [chained, cvq]));
    expect(refs(c.page.matches)).toEqual(['Observation/o3-9']);
    expectIndexed(c.lines);
    const at25h = entry('date', 'date', [[cmp('low', 'eq', Date.UTC(2020, 0, 1, 25))]]);
    const has = { kind: 'has' as const, sourceType: 'Observation', param: 'subject', where: [at25h] };
    const h = await explain(plan('Patient', [has]));
    expect(refs(h.page.matches)).toEqual(['Patient/p2']);
    expectIndexed(h.lines);
  });

  test('_include and _revinclude go through the reference index', async () => {
    const results = { sourceType: 'DiagnosticReport', param: 'result', iterate: false };
    const inc = await explain(plan('DiagnosticReport', [patient(5)], { include: [results] }));
    expect(refs(inc.page.included)).toEqual(['Observation/o5-0', 'Observation/o5-1']);
    expectIndexed(inc.lines);
    const reports = { sourceType: 'DiagnosticReport', param: 'subject', iterate: false };
    const rev = await explain(plan('Patient', [{ kind: 'id', ids: ['p9'] }], { revinclude: [reports] }));
    expect(refs(rev.page.included)).toEqual(['DiagnosticReport/d9']);
    expectIndexed(rev.lines);
  });

  test('a broad condition pages in Type/id order instead of sorting every match, with the same results', async () => {
    const broad = tokenIs('status', 'final');
    const p = plan('Observation', [broad], { count: 5, total: true });
    const { page, lines } = await explain(p);
    expect(page.total).toBe(PATIENTS * (PER_PATIENT - 1));
    expect(page.matches.map((m) => m.id)).toEqual(['o0-0', 'o0-1', 'o0-2', 'o0-4', 'o0-5']);
    expect(lines).toContainEqual(expect.stringMatching(/SEARCH r USING INDEX resource_type_ref \(type=\? AND deleted=\?\)/));
    const second = await store.search({ ...p, cursor: page.next });
    // Ids sort as strings: o0-9 is followed by o1-0, then o10-0.
    expect(second.matches.map((m) => m.id)).toEqual(['o0-6', 'o0-7', 'o0-8', 'o0-9', 'o1-0']);
    const back = await store.search({ ...p, cursor: second.prev });
    expect(back.matches.map((m) => m.id)).toEqual(['o0-0', 'o0-1', 'o0-2', 'o0-4', 'o0-5']);
    expect(back.prev).toBeUndefined();
  });

  test('row limits are written into the SQL, never bound (a bound LIMIT makes SQLite compile the statement again on every run)', async () => {
    const results = { sourceType: 'DiagnosticReport', param: 'result', iterate: false };
    const p = plan('DiagnosticReport', [entry('reference', 'subject', [[cmp('ref', 'in', ['Patient/p5', 'Patient/p6'])]])], {
      include: [results],
      maxIncludes: 3,
      count: 1,
      total: true,
      totalLimit: 10,
    });
    captured = [];
    const page = await store.search(p);
    expect(refs(page.matches)).toEqual(['DiagnosticReport/d5']);
    expect(page.total).toBe(2);
    // Two results per report, one report on the page: the cut at 3 keeps both, in Type/id order.
    expect(refs(page.included)).toEqual(['Observation/o5-0', 'Observation/o5-1']);
    const cut = await store.search({ ...p, count: 2, maxIncludes: 3 });
    expect(refs(cut.included)).toEqual(['Observation/o5-0', 'Observation/o5-1', 'Observation/o6-0']);
    expect(cut.includesTruncated).toBe(true);
    const broad = await store.search(plan('Observation', [tokenIs('status', 'final')], { count: 2, total: true, totalLimit: 50 }));
    expect(broad.matches.map((m) => m.id)).toEqual(['o0-0', 'o0-1']);
    expect(broad.total).toBeUndefined();
    expect(captured.length).toBeGreaterThan(3);
    expect(captured.filter((sql) => /LIMIT\s+\?/i.test(sql))).toEqual([]);
    expect(captured.filter((sql) => /LIMIT \d+/.test(sql)).length).toBeGreaterThan(0);
  });
});
