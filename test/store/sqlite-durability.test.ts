import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VersionConflict, type VersionWrite } from '../../src/store/port';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';

const write = (id: string, versionId: number, expectedVersion: number): VersionWrite => ({
  type: 'Patient',
  id,
  versionId,
  expectedVersion,
  lastUpdated: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, versionId)).toISOString(),
  method: versionId === 1 ? 'POST' : 'PUT',
  deleted: false,
  json: JSON.stringify({ resourceType: 'Patient', id }),
  index: [],
});

/**
 * The file-backed store acknowledges a write only after its WAL is synced
 * (off the event loop): what it acknowledged is in the file when it is
 * opened again, and a batch that wrote nothing still settles.
 */
describe('sqlite store on a file: acknowledged writes are in the file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-durable-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every acknowledged write of concurrent batches is there after reopening', async () => {
    const store = new SqliteStore({ dataDir: dir });
    const ids = Array.from({ length: 200 }, (_, i) => `p${i}`);
    await Promise.all(ids.map((id) => store.write(write(id, 1, 0))));
    await Promise.all(ids.slice(0, 50).map((id) => store.write(write(id, 2, 1))));
    expect(fs.existsSync(path.join(dir, 'fhir.sqlite-wal'))).toBe(true);
    await store.close();

    const reopened = new SqliteStore({ dataDir: dir });
    expect((await reopened.readMany('Patient', ids)).length).toBe(200);
    expect((await reopened.readCurrent('Patient', 'p7'))?.versionId).toBe(2);
    expect((await reopened.readCurrent('Patient', 'p70'))?.versionId).toBe(1);
    await reopened.close();
  });

  test('a first batch made only of conflicts settles and the store goes on', async () => {
    const store = new SqliteStore({ dataDir: dir });
    const refused = await Promise.allSettled([store.write(write('x', 2, 1)), store.write(write('y', 3, 2))]);
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflict);
    await store.write(write('x', 1, 0));
    expect((await store.readCurrent('Patient', 'x'))?.versionId).toBe(1);
    await store.close();
  });

  test('close waits for syncs in flight', async () => {
    const store = new SqliteStore({ dataDir: dir });
    const pending = store.write(write('z', 1, 0));
    await new Promise((resolve) => setImmediate(resolve));
    await store.close();
    await expect(pending).resolves.toBeUndefined();
  });
});
