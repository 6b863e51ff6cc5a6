import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { FHIR_JSON } from '../support/app';
import { patient } from '../support/resources';

/**
 * When the database refuses momentarily (here: another process holds the
 * SQLite write lock past the busy timeout), the client gets 503 with
 * Retry-After and an OperationOutcome, nothing is stored, and the next
 * request succeeds once the lock is gone.
 */
describe('a momentarily unavailable store (sqlite locked by another process)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-busy-'));
  const store = new SqliteStore({ dataDir: dir, busyTimeoutMs: 50 });
  const app = createApp({
    config: { baseUrl: 'https://dmp.test/fhir', maxBodyBytes: 1024 * 1024, defaultPageSize: 20, maxPageSize: 100 },
    store,
    logger: pino({ level: 'silent' }),
    withoutAccessControl: true,
  });
  const other = new Database(path.join(dir, 'fhir.sqlite'));

  afterAll(async () => {
    other.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a write while locked is 503 with Retry-After; after the lock, it is 201', async () => {
    other.exec('BEGIN IMMEDIATE');
    const refused = await request(app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] });
    other.exec('ROLLBACK');

    const history = await request(app).get('/fhir/Patient/_history');
    expect(history.body.total).toBe(0);
    const accepted = await request(app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    expect(accepted.status).toBe(201);
  });
});
