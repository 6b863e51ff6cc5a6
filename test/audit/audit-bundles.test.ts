import type { AuditEvent } from '@medplum/fhirtypes';
import request from 'supertest';
import { dmpDocument, dmpPatient, openDmpWorld, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/**
 * Bundles are audited per entry (DMP-RULES.md § 8 item 10, "one per entry
 * in a batch"): a batch or a transaction of N entries writes N AuditEvents,
 * each with its own interaction, resource and outcome; a failed transaction
 * records its failing entry.
 */
describe.each(STORES)('audit of Bundles ($name)', (fixture) => {
  let world: DmpWorld;
  let pid: string;
  let seq = 0;

  beforeAll(async () => {
    world = await openDmpWorld(fixture);
    pid = (await (await world.as('gp')).post('Patient', dmpPatient('290017512345651'))).body.id;
  });
  afterAll(() => world.close());

  /** The AuditEvents of every chain carrying request id `rid`. */
  async function auditsOf(rid: string): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    for (const chain of await world.store.listChains(undefined, 1000)) {
      for (const l of await world.store.chainLinks(chain, 0, 100000)) {
        const ev = JSON.parse(l.json) as AuditEvent;
        if (ev.entity?.some((e) => e.what?.identifier?.value === rid)) out.push(ev);
      }
    }
    return out;
  }

  async function post(bundle: unknown) {
    const rid = `bundle-audit-${++seq}`;
    const token = await world.token('author');
    const res = await request(world.app).post('/fhir').set('Authorization', `Bearer ${token}`).set('X-Request-Id', rid).set('Content-Type', 'application/fhir+json').send(JSON.stringify(bundle));
    return { res, rid };
  }

  const feed = (title: string) => ({ resource: dmpDocument(pid, '11488-4', [], title), request: { method: 'POST', url: 'DocumentReference' } });
  const entryShape = (ev: AuditEvent) => [ev.subtype?.[0]?.code, ev.action, ev.outcome];

  test('a batch of 3 entries (2 creates, 1 refused) writes 3 AuditEvents with their own outcomes', async () => {
    const { res, rid } = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [feed('batch one'), feed('batch two'), { request: { method: 'GET', url: `Patient/${pid}/_history/999` } }],
    });
    expect(res.status).toBe(200);
    const events = await auditsOf(rid);
    expect(events.map(entryShape).sort()).toEqual([
      ['create', 'C', '0'],
      ['create', 'C', '0'],
      ['vread', 'R', '4'],
    ]);
    const titles = events.flatMap((ev) => (ev.entity ?? []).map((e) => e.name)).filter(Boolean).sort();
    expect(titles).toEqual(['batch one', 'batch two']);
  });

  test('a transaction of 3 creates writes 3 AuditEvents naming each document', async () => {
    const { res, rid } = await post({ resourceType: 'Bundle', type: 'transaction', entry: [feed('tx one'), feed('tx two'), feed('tx three')] });
    expect(res.status).toBe(200);
    const events = await auditsOf(rid);
    expect(events.map(entryShape)).toEqual([
      ['create', 'C', '0'],
      ['create', 'C', '0'],
      ['create', 'C', '0'],
    ]);
    const created = res.body.entry.map((e: { response: { location: string } }) => e.response.location.split('/_history')[0]);
    const named = events.flatMap((ev) => (ev.entity ?? []).map((e) => e.what?.reference?.split('/_history')[0])).filter((r) => r?.startsWith('DocumentReference/'));
    expect(named.sort()).toEqual([...created].sort());
  });

  test('a transaction that fails records its failing entry, and nothing was stored', async () => {
    const bad = { resource: { resourceType: 'DocumentReference', status: 'not-a-status', subject: { reference: `Patient/${pid}` }, content: [] }, request: { method: 'POST', url: 'DocumentReference' } };
    const { res, rid } = await post({ resourceType: 'Bundle', type: 'transaction', entry: [feed('tx doomed'), bad] });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toContain('Bundle.entry[1]');
    const events = await auditsOf(rid);
    expect(events.map(entryShape)).toEqual([['create', 'C', '4']]);
    const titles = JSON.stringify((await (await world.as('gp')).get(`DocumentReference?patient=${pid}&_count=100`)).body);
    expect(titles).not.toContain('tx doomed');
  });
});
