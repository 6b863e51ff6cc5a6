import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_DATE } from '../../src/fhir/search/index-entry';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { cmp, date, dateIso, entry, matchIds, qty, composite, tok, Seeder } from './search-support';

/**
 * SQLite only: a database written before `ix_date_span` existed gets it
 * filled when the store opens it, with the rows the write path would have
 * written, once; two-sided date ranges then find what they found before.
 * @see https://hl7.org/fhir/R4/search.html#date
 */
const ms = (iso: string) => Date.parse(iso);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-migration-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const spanRows = (store: SqliteStore) => store.db.prepare('SELECT * FROM ix_date_span ORDER BY rid, param').all();

test('an older database gets its date spans backfilled once, as the write path writes them', async () => {
  const open = () => new SqliteStore({ dataDir: dir, fileName: 'old.sqlite' });
  const store = open();
  const s = new Seeder(store);
  await s.put('Observation', 'narrow', [dateIso('date', '2024-01-15T10:00:00.000Z')]);
  await s.put('Observation', 'month', [dateIso('date', '2024-01-01T00:00:00.000Z', '2024-01-31T23:59:59.999Z')]);
  await s.put('Observation', 'year', [dateIso('date', '2024-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z')]);
  await s.put('Observation', 'open', [date('date', ms('2020-01-01T00:00:00.000Z'), MAX_DATE)]);
  await s.put('Observation', 'multi', [
    dateIso('date', '2023-06-01T08:00:00.000Z'),
    dateIso('date', '2024-03-01T08:00:00.000Z'),
    dateIso('issued', '2024-03-02T08:00:00.000Z'),
  ]);
  // Composite date parts are not plain date parameters: no span row.
  await s.put('Observation', 'composite', [composite('code-value-date', tok('code', null, 'x'), date('value-date', 1, 2))]);
  await s.put('Observation', 'quantity', [qty('value-quantity', 5)]);
  const written = spanRows(store);
  expect(written.map((r) => (r as { span: number }).span)).toEqual([0, 1, 2, 3, 2, 0]);
  // What a database of the previous schema looks like: no span table.
  store.db.exec('DROP TABLE ix_date_span');
  await store.close();

  const migrated = open();
  expect(spanRows(migrated)).toEqual(written);
  const ge = entry('date', 'date', [
    [cmp('high', 'gt', ms('2024-01-01T23:59:59.999Z'))],
    [cmp('low', 'ge', ms('2024-01-01T00:00:00.000Z')), cmp('high', 'le', ms('2024-01-01T23:59:59.999Z'))],
  ]);
  const lt = entry('date', 'date', [[cmp('low', 'lt', ms('2024-02-01T00:00:00.000Z'))]]);
  expect(await matchIds(migrated, 'Observation', [ge, lt])).toEqual(['month', 'multi', 'narrow', 'open', 'year']);
  await migrated.close();

  // Later starts copy nothing again (a copy would collide with the primary key and fail the open).
  const again = open();
  expect(spanRows(again)).toEqual(written);
  await again.close();
});
