import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SearchPlan } from '../../src/fhir/search/plan';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { cmp, composite, dateIso, entry, num, plan, qty, ref, refs, Seeder, str, tok, uri } from './search-support';

/**
 * SQLite only: the value indexes of the date, number, quantity, string and
 * uri tables hold plain rows only (composite parts after the first are never
 * looked up by value), and the identifier index of references only the
 * references with an identifier (schema.ts). Each plain lookup must still go
 * through its index, composites must still match, and a database written
 * with the former full indexes is upgraded when it is opened.
 * @see https://hl7.org/fhir/R4/search.html#composite
 */
const N = 200;

/** N Observations, each with a plain entry of every kind whose value index is partial, and two composites. */
async function seed(store: SqliteStore): Promise<void> {
  const seeder = new Seeder(store);
  for (let i = 0; i < N; i++) {
    await seeder.put('Observation', `o${i}`, [
      ref('subject', `Patient/p${i % 20}`),
      // A reference by identifier only on every tenth Observation.
      ...(i % 10 === 0 ? [ref('performer', null, { system: 'urn:rpps', value: `rpps${i}` })] : []),
      qty('value-quantity', 50 + i),
      num('probability', i / 10),
      str('note', `Note ${i}`),
      uri('instantiates', `http://example.org/protocol/${i}`),
      dateIso('date', new Date(Date.UTC(2020, 0, 1) + i * 3600_000).toISOString()),
      composite('code-value-quantity', tok('code', 'http://loinc.org', '8480-6'), qty('value-quantity', 100 + (i % 50))),
      composite('code-value-date', tok('code', 'http://loinc.org', '8480-6'), dateIso('date', '2021-06-01T00:00:00Z')),
    ]);
  }
}

/** Runs the plan, recording the query plan lines of every statement it used. */
async function explain(store: SqliteStore, p: SearchPlan): Promise<{ ids: string[]; lines: string[] }> {
  const captured: string[] = [];
  const statement = SqliteStore.prototype.statement;
  store.statement = (sql: string) => {
    captured.push(sql);
    return statement.call(store, sql);
  };
  try {
    const page = await store.search(p);
    const lines = captured.flatMap((sql) => {
      const params = (sql.match(/\?/g) ?? []).map(() => null);
      return (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
    });
    return { ids: refs(page.matches).sort(), lines };
  } finally {
    store.statement = statement;
  }
}

const LOOKUPS: Array<{ name: string; plan: SearchPlan; ids: string[]; index: RegExp }> = [
  {
    name: 'quantity',
    plan: plan('Observation', [entry('quantity', 'value-quantity', [[cmp('value', 'ge', 248)]])]),
    ids: ['Observation/o198', 'Observation/o199'],
    index: /USING (COVERING )?INDEX ix_quantity_value3 \(type=\? AND param=\? AND value>\?\)/,
  },
  {
    name: 'number',
    plan: plan('Observation', [entry('number', 'probability', [[cmp('value', 'gt', 19.75)]])]),
    ids: ['Observation/o198', 'Observation/o199'],
    index: /INDEX ix_number_value3 \(type=\? AND param=\? AND value>\?\)/,
  },
  {
    name: 'string',
    plan: plan('Observation', [entry('string', 'note', [[cmp('value', 'eq', 'note 7')]])]),
    ids: ['Observation/o7'],
    index: /INDEX ix_string_value3 \(type=\? AND param=\? AND value=\?\)/,
  },
  {
    name: 'uri',
    plan: plan('Observation', [entry('uri', 'instantiates', [[cmp('value', 'eq', 'http://example.org/protocol/12')]])]),
    ids: ['Observation/o12'],
    index: /INDEX ix_uri_value3 \(type=\? AND param=\? AND value=\?\)/,
  },
  {
    name: 'date',
    plan: plan('Observation', [entry('date', 'date', [[cmp('low', 'ge', Date.UTC(2020, 0, 9, 6))]])]),
    ids: ['Observation/o198', 'Observation/o199'],
    index: /INDEX ix_date_(low|high)3 \(type=\? AND param=\? AND (low|high)>\?\)/,
  },
  {
    name: 'reference identifier',
    plan: plan('Observation', [entry('reference', 'performer', [[cmp('idSystem', 'eq', 'urn:rpps'), cmp('idValue', 'eq', 'rpps30')]])]),
    ids: ['Observation/o30'],
    index: /INDEX ix_reference_ident3 \(type=\? AND param=\? AND id_value=\? AND id_system=\?\)/,
  },
];

const COMPOSITES: Array<{ name: string; plan: SearchPlan; count: number }> = [
  {
    // The quantity part is read through (rid, param), never through the partial value index.
    name: 'code-value-quantity',
    plan: plan('Observation', [
      {
        kind: 'composite',
        param: 'code-value-quantity',
        anyOf: [[
          { entryKind: 'token', predicate: [[cmp('code', 'eq', '8480-6')]] },
          { entryKind: 'quantity', predicate: [[cmp('value', 'ge', 148)]] },
        ]],
      },
    ]),
    count: 8,
  },
  {
    name: 'code-value-date',
    plan: plan('Observation', [
      {
        kind: 'composite',
        param: 'code-value-date',
        anyOf: [[
          { entryKind: 'token', predicate: [[cmp('code', 'eq', '8480-6')]] },
          { entryKind: 'date', predicate: [[cmp('low', 'ge', Date.UTC(2021, 5, 1))]] },
        ]],
      },
    ]),
    count: N,
  },
];

async function expectLookups(store: SqliteStore): Promise<void> {
  for (const l of LOOKUPS) {
    const { ids, lines } = await explain(store, l.plan);
    expect({ name: l.name, ids }).toEqual({ name: l.name, ids: l.ids });
    expect(lines).toContainEqual(expect.stringMatching(l.index));
    expect(lines.filter((x) => /^SCAN /.test(x) && !/^SCAN (json_each|\(subquery-\d+\))/.test(x))).toEqual([]);
  }
  for (const c of COMPOSITES) {
    const page = await store.search({ ...c.plan, count: 1000 });
    expect({ name: c.name, count: page.matches.length }).toEqual({ name: c.name, count: c.count });
  }
}

function indexSql(db: Database.Database): Map<string, string> {
  const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string; sql: string }[];
  return new Map(rows.map((r) => [r.name, r.sql]));
}

describe('sqlite: partial value indexes', () => {
  test('plain lookups use the partial indexes; composites still match', async () => {
    const store = new SqliteStore({ dataDir: '', fileName: ':memory:' });
    await seed(store);
    await expectLookups(store);
    // Composite parts and references without identifier are not in the partial indexes.
    const count = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
    expect(count('SELECT COUNT(*) AS n FROM ix_quantity INDEXED BY ix_quantity_value3 WHERE grp IS NULL AND type = \'Observation\'')).toBe(N);
    expect(count('SELECT COUNT(*) AS n FROM ix_quantity')).toBe(2 * N);
    expect(count('SELECT COUNT(*) AS n FROM ix_reference INDEXED BY ix_reference_ident3 WHERE id_value IS NOT NULL AND type = \'Observation\'')).toBe(N / 10);
    await store.close();
  });

  test('a database with the former full value indexes gets the partial ones when opened', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partial-ix-'));
    try {
      const first = new SqliteStore({ dataDir: dir });
      await seed(first);
      await first.close();
      // Put the database back as the previous schema left it.
      const db = new Database(path.join(dir, 'fhir.sqlite'));
      const current = [...indexSql(db).keys()].filter((n) => /3$/.test(n));
      expect(current.sort()).toEqual(['ix_date_high3', 'ix_date_low3', 'ix_number_value3', 'ix_quantity_value3', 'ix_reference_ident3', 'ix_string_value3', 'ix_uri_value3']);
      for (const name of current) db.exec(`DROP INDEX ${name}`);
      db.exec(`
        CREATE INDEX ix_string_value2 ON ix_string(type, param, value, rid);
        CREATE INDEX ix_reference_ident2 ON ix_reference(type, param, id_value, id_system, rid);
        CREATE INDEX ix_date_low2 ON ix_date(type, param, low, high, rid);
        CREATE INDEX ix_date_high2 ON ix_date(type, param, high, low, rid);
        CREATE INDEX ix_number_value2 ON ix_number(type, param, value, rid);
        CREATE INDEX ix_quantity_value2 ON ix_quantity(type, param, value, code, system, rid);
        CREATE INDEX ix_uri_value2 ON ix_uri(type, param, value, rid);`);
      db.close();

      const reopened = new SqliteStore({ dataDir: dir });
      const names = indexSql(reopened.db);
      expect([...names.keys()].filter((n) => /2$/.test(n) && /value|ident|date_(low|high)/.test(n))).toEqual([]);
      for (const name of current) expect(names.get(name)).toMatch(/WHERE (grp IS NULL|id_value IS NOT NULL)$/);
      await expectLookups(reopened);
      await reopened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
