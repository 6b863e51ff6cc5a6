import type Database from 'better-sqlite3';
import request from 'supertest';
import { dmpDocument, dmpPatient, openDmpWorld, type DmpWorld } from '../support/dmp-world';
import { rawBody } from '../support/raw-body';
import { STORES } from '../support/stores';

/**
 * If the audit cannot be written, the request fails with 503 and returns no
 * data (DMP-RULES.md § 8 item 10). The failure is a real one: the database
 * refuses every insert into the chain links (a trigger raising an error, as
 * a full disk or a broken file would), while resource reads still work.
 */
const sqlite = STORES.filter((f) => f.name === 'sqlite');

describe.each(sqlite)('audit failure ($name)', (fixture) => {
  let world: DmpWorld;
  let pid: string;
  let doc: string;
  const db = () => (world.store as unknown as { db: Database.Database }).db;

  beforeAll(async () => {
    world = await openDmpWorld(fixture);
    pid = (await (await world.as('gp')).post('Patient', dmpPatient('290017512345641'))).body.id;
    doc = (await (await world.as('author')).post('DocumentReference', dmpDocument(pid, '11488-4', [], 'Secret de consultation'))).body.id;
  });
  afterAll(() => world.close());

  test('a read, a search and a refusal answer 503 with no data while the audit cannot be written, and work again after', async () => {
    db().exec("CREATE TRIGGER audit_down BEFORE INSERT ON chain_entry BEGIN SELECT RAISE(ABORT, 'audit storage failure'); END");
    const gp = await world.as('gp');
    for (const res of [await gp.get(`DocumentReference/${doc}`), await gp.get(`DocumentReference?patient=${pid}`), await (await world.as('stranger')).get(`DocumentReference/${doc}`)]) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(res.body)).not.toContain('Secret de consultation');
      expect(JSON.stringify(res.body)).not.toContain(doc);
    }
    db().exec('DROP TRIGGER audit_down');
    const again = await gp.get(`DocumentReference/${doc}`);
    expect(again.status).toBe(200);
    expect(again.body.description).toBe('Secret de consultation');
  });

  test('a Binary retrieval answers 503 without a byte of its content while the audit cannot be written', async () => {
    const bearer = `Bearer ${await world.token('author', pid)}`;
    const secret = Buffer.from('%PDF-1.7 contenu confidentiel du compte rendu');
    const up = await request(world.app).post('/fhir/Binary').set('Authorization', bearer).set('Content-Type', 'application/pdf').send(secret);
    expect(up.status).toBe(201);
    const get = (headers: Record<string, string> = {}) => rawBody(request(world.app).get(`/fhir/Binary/${up.body.id}`).set('Authorization', bearer).set(headers));
    db().exec("CREATE TRIGGER audit_down BEFORE INSERT ON chain_entry BEGIN SELECT RAISE(ABORT, 'audit storage failure'); END");
    try {
      for (const res of [await get(), await get({ Range: 'bytes=0-9' }), await get({ Accept: 'application/fhir+json' })]) {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
        const text = (res.body as Buffer).toString();
        expect(JSON.parse(text).resourceType).toBe('OperationOutcome');
        expect(text).not.toContain('contenu confidentiel');
        expect(text).not.toContain(secret.toString('base64').slice(0, 20));
      }
    } finally {
      db().exec('DROP TRIGGER audit_down');
    }
    const again = await get();
    expect(again.status).toBe(200);
    expect((again.body as Buffer).toString()).toBe(secret.toString());
  });
});
