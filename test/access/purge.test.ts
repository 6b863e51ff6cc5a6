import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { CLOSURE_EXTENSION } from '../../src/access/codes';
import { createApp } from '../../src/app';
import { isPurgeable, purgeCutoff } from '../../src/fhir/purge';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { BASE_URL } from '../support/app';
import { dmpDocument, dmpPatient } from '../support/dmp-world';

const closed = (ins: string, at: string) => ({ ...dmpPatient(ins), active: false, extension: [{ url: CLOSURE_EXTENSION, extension: [{ url: 'date', valueDateTime: at }] }] });

describe('purge of DMPs closed more than 10 years ago', () => {
  test('the cutoff is 10 calendar years; open DMPs and recent closures are never purgeable', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(new Date(purgeCutoff(now)).toISOString()).toBe('2016-11-24T12:00:00.000Z');
    expect(isPurgeable(closed('1', '2016-11-24T11:59:59Z') as never, purgeCutoff(now))).toBe(true);
    expect(isPurgeable(closed('1', '2016-11-24T12:00:01Z') as never, purgeCutoff(now))).toBe(false);
    expect(isPurgeable({ ...closed('1', '2001-01-01T00:00:00Z'), active: true } as never, purgeCutoff(now))).toBe(false);
  });

  test('npm run purge lists (dry run) and with --apply deletes only the old closed DMP and its data', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-purge-'));
    const store = new SqliteStore({ dataDir: dir });
    const app = createApp({
      config: { baseUrl: BASE_URL, maxBodyBytes: 1 << 20, defaultPageSize: 20, maxPageSize: 100 },
      store,
      logger: pino({ level: 'silent' }),
      withoutAccessControl: true,
    });
    const post = async (type: string, body: unknown) => (await request(app).post(`/fhir/${type}`).set('Content-Type', 'application/fhir+json').send(JSON.stringify(body))).body.id as string;
    const old = await post('Patient', closed('260017512345610', '2012-03-01T00:00:00Z'));
    const oldDoc = await post('DocumentReference', dmpDocument(old, '11488-4'));
    // A deleted document (its tombstone has no index entry) and a Binary a document points to, with its bytes in a file.
    const deletedDoc = await post('DocumentReference', dmpDocument(old, '11488-4', [], 'supprimé'));
    expect((await request(app).delete(`/fhir/DocumentReference/${deletedDoc}`)).status).toBe(200);
    const binary = (await request(app).post('/fhir/Binary').set('Content-Type', 'application/pdf').send(Buffer.from('%PDF-1.7 compte rendu'))).body.id as string;
    const withBinary = await post('DocumentReference', { ...dmpDocument(old, '11488-4'), content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${binary}` } }] });
    const contentFiles = () => (fs.existsSync(path.join(dir, 'binary')) ? fs.readdirSync(path.join(dir, 'binary'), { recursive: true }).filter((f) => fs.statSync(path.join(dir, 'binary', String(f))).isFile()) : []);
    expect(contentFiles().length).toBeGreaterThan(0);
    const recent = await post('Patient', closed('260017512345611', '2020-03-01T00:00:00Z'));
    const recentDoc = await post('DocumentReference', dmpDocument(recent, '11488-4'));
    const open = await post('Patient', dmpPatient('260017512345612'));
    await store.close();

    const run = (...args: string[]) =>
      execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'src', 'cli', 'purge.js'), ...args], {
        env: { PATH: process.env.PATH, DATA_DIR: dir },
        encoding: 'utf8',
      });
    const dry = run();
    expect(dry).toContain(`Patient/${old} closed 2012-03-01T00:00:00Z: 5 resources`);
    for (const ref of [`DocumentReference/${oldDoc}`, `DocumentReference/${deletedDoc}`, `DocumentReference/${withBinary}`, `Binary/${binary}`]) expect(dry).toContain(ref);
    expect(dry).not.toContain(recent);
    expect(dry).not.toContain(open);
    expect(dry).toContain('Dry run: nothing was deleted');
    expect(run('--apply')).toContain('Deleted 5 resources of 1 DMPs');

    const after = new SqliteStore({ dataDir: dir });
    expect(await after.readCurrent('Patient', old)).toBeUndefined();
    expect(await after.readVersion('DocumentReference', oldDoc, 1)).toBeUndefined();
    expect(await after.readVersion('DocumentReference', deletedDoc, 1)).toBeUndefined();
    expect(await after.readVersion('Binary', binary, 1)).toBeUndefined();
    expect(contentFiles()).toEqual([]);
    expect(await after.readCurrent('Patient', recent)).toBeDefined();
    expect(await after.readCurrent('DocumentReference', recentDoc)).toBeDefined();
    expect(await after.readCurrent('Patient', open)).toBeDefined();
    await after.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
