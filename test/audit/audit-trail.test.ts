import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { Label } from '../../src/access/codes';
import { patientChain, SYSTEM_CHAIN } from '../../src/audit/codes';
import { dmpConsent, dmpDocument, dmpPatient, openDmpWorld, RPPS, type ActorName, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/**
 * The audit trail over HTTP with real signed tokens (issue #7, DMP-RULES.md
 * § 8): every interaction and every refusal writes exactly one AuditEvent
 * per DMP it concerns, shaped like BALP, before the answer is sent.
 */
describe.each(STORES)('audit trail ($name)', (fixture) => {
  let world: DmpWorld;
  let pid: string;
  let doc: string;
  let hiddenDoc: string;
  let seq = 0;

  /** AuditEvents of the whole store whose X-Request-Id entity is `rid` (read from the chains, as stored). */
  async function auditsOf(rid: string): Promise<AuditEvent[]> {
    const found: AuditEvent[] = [];
    let after: string | undefined;
    for (;;) {
      const chains = await world.store.listChains(after, 200);
      if (chains.length === 0) return found;
      for (const chain of chains) {
        for (const link of await world.store.chainLinks(chain, 0, 100000)) {
          const ev = JSON.parse(link.json) as AuditEvent;
          if (ev.entity?.some((e) => e.what?.identifier?.value === rid)) found.push(ev);
        }
      }
      after = chains[chains.length - 1];
    }
  }

  /** Runs one request as `actor` with a fresh X-Request-Id; returns the answer and that id. */
  async function call(actor: ActorName, method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, body?: unknown, contentType = 'application/fhir+json') {
    const rid = `audit-test-${++seq}`;
    const token = await world.token(actor, pid);
    let req = request(world.app)[method](`/fhir/${path}`).set('Authorization', `Bearer ${token}`).set('X-Request-Id', rid);
    if (body !== undefined) req = req.set('Content-Type', contentType).send(JSON.stringify(body));
    const res = await req;
    return { res, rid };
  }

  function only(events: AuditEvent[]): AuditEvent {
    expect(events).toHaveLength(1);
    return events[0];
  }

  const refs = (ev: AuditEvent) => (ev.entity ?? []).map((e) => e.what?.reference).filter(Boolean);
  const subtype = (ev: AuditEvent) => ev.subtype?.[0]?.code;

  beforeAll(async () => {
    world = await openDmpWorld(fixture);
    const gp = await world.as('gp');
    pid = (await gp.post('Patient', dmpPatient('270017512345611'))).body.id;
    const author = await world.as('author');
    doc = (await author.post('DocumentReference', dmpDocument(pid, '11488-4', [], 'Compte rendu de consultation'))).body.id;
    hiddenDoc = (await author.post('DocumentReference', dmpDocument(pid, '11488-4', [Label.invisibleToPatient], 'Annonce diagnostique'))).body.id;
    expect((await (await world.as('patient', pid)).post('Consent', dmpConsent(pid, 'permit', [RPPS.pharmacist]))).status).toBe(201);
  });
  afterAll(() => world.close());

  test('a read writes one AuditEvent: R, read, the professional by RPPS and profession, the patient and the document with its title', async () => {
    const { res, rid } = await call('gp', 'get', `DocumentReference/${doc}`);
    expect(res.status).toBe(200);
    const ev = only(await auditsOf(rid));
    expect(ev.action).toBe('R');
    expect(subtype(ev)).toBe('read');
    expect(ev.outcome).toBe('0');
    expect(ev.type?.code).toBe('rest');
    expect(ev.agent?.[0]?.who?.identifier).toEqual({ system: 'https://rpps.esante.gouv.fr', value: RPPS.gp });
    expect(ev.agent?.[0]?.role?.flatMap((r) => r.coding ?? []).map((c) => c.code)).toEqual(['professional', '10']);
    expect(ev.agent?.[0]?.requestor).toBe(true);
    expect(ev.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('normal');
    expect(refs(ev)).toEqual([`Patient/${pid}`, `DocumentReference/${doc}/_history/1`]);
    const entity = ev.entity?.find((e) => e.what?.reference?.startsWith('DocumentReference/'));
    expect(entity?.name).toBe('Compte rendu de consultation');
    expect(entity?.description).toContain('11488-4');
    expect(ev.source?.observer?.display).toBeTruthy();
  });

  test('each interaction kind writes exactly one AuditEvent with its subtype and action', async () => {
    const cases: [ActorName, 'get' | 'post' | 'put' | 'patch' | 'delete', string, unknown, string, string, number][] = [
      ['gp', 'get', `DocumentReference/${doc}/_history/1`, undefined, 'vread', 'R', 200],
      ['gp', 'get', `DocumentReference?patient=${pid}`, undefined, 'search-type', 'E', 200],
      ['gp', 'get', `DocumentReference/${doc}/_history`, undefined, 'history-instance', 'R', 200],
      ['gp', 'post', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'poids' }, subject: { reference: `Patient/${pid}` } }, 'create', 'C', 201],
    ];
    for (const [actor, method, path, body, code, action, status] of cases) {
      const { res, rid } = await call(actor, method, path, body);
      expect(res.status).toBe(status);
      const ev = only(await auditsOf(rid));
      expect([code, ev.action, ev.outcome]).toEqual([subtype(ev), action, '0']);
      expect(refs(ev)).toContain(`Patient/${pid}`);
    }
    const obs = (await (await world.as('gp')).post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'taille' }, subject: { reference: `Patient/${pid}` } })).body;
    const put = await call('gp', 'put', `Observation/${obs.id}`, { ...obs, status: 'amended' });
    expect(put.res.status).toBe(200);
    expect([subtype(only(await auditsOf(put.rid))), only(await auditsOf(put.rid)).action]).toEqual(['update', 'U']);
    const patch = await call('gp', 'patch', `Observation/${obs.id}`, [{ op: 'replace', path: '/status', value: 'final' }], 'application/json-patch+json');
    expect(patch.res.status).toBe(200);
    expect(refs(only(await auditsOf(patch.rid)))).toContain(`Observation/${obs.id}/_history/3`);
    const del = await call('gp', 'delete', `Observation/${obs.id}`);
    expect(del.res.status).toBe(200);
    expect([subtype(only(await auditsOf(del.rid))), only(await auditsOf(del.rid)).action]).toEqual(['delete', 'D']);
    const op = await call('patient', 'post', `Patient/${pid}/$verify-audit`, { resourceType: 'Parameters' });
    expect(op.res.status).toBe(200);
    const opEvent = only(await auditsOf(op.rid));
    expect([subtype(opEvent), opEvent.subtype?.[1]?.code, opEvent.action]).toEqual(['operation', 'verify-audit', 'E']);
    expect(opEvent.agent?.[0]?.who?.reference).toBe(`Patient/${pid}`);
  });

  test('a search records its query and the resources it returned', async () => {
    const { res, rid } = await call('pharmacist', 'get', `DocumentReference?patient=${pid}&_total=accurate`);
    expect(res.status).toBe(200);
    const ev = only(await auditsOf(rid));
    const query = ev.entity?.find((e) => e.role?.code === '24');
    expect(query?.description).toBe(`GET DocumentReference?patient=${pid}&_total=accurate`);
    expect(Buffer.from(query?.query as string, 'base64').toString()).toBe(query?.description);
    // The pharmacist's matrix does not give consultation notes: nothing returned, the DMP still named.
    expect(refs(ev)).toEqual([`Patient/${pid}`]);
  });

  test('refusals are audited: 403 (no right) and 404 (hidden) with outcome 4 and the reason', async () => {
    const denied = await call('stranger', 'get', `DocumentReference/${doc}`);
    expect(denied.res.status).toBe(403);
    const d = only(await auditsOf(denied.rid));
    expect(d.outcome).toBe('4');
    expect(d.outcomeDesc).toMatch(/^403 .*no-authorisation/);
    expect(refs(d)).toContain(`Patient/${pid}`);
    const hidden = await call('pharmacist', 'get', `DocumentReference/${doc}`);
    expect(hidden.res.status).toBe(404);
    const h = only(await auditsOf(hidden.rid));
    expect([h.outcome, h.outcomeDesc?.slice(0, 3)]).toEqual(['4', '404']);
  });

  test('a request without a valid token is a security AuditEvent in no patient chain', async () => {
    const rid = 'audit-test-401';
    const res = await request(world.app).get(`/fhir/Patient/${pid}`).set('Authorization', 'Bearer not-a-token').set('X-Request-Id', rid);
    expect(res.status).toBe(401);
    const ev = only(await auditsOf(rid));
    expect(ev.type?.code).toBe('110113');
    expect(ev.outcome).toBe('4');
    expect(refs(ev)).toEqual([]);
    const systemLinks = await world.store.chainLinks(SYSTEM_CHAIN, 0, 100000);
    expect(systemLinks.some((l) => (l.json).includes(rid))).toBe(true);
  });

  test('an emergency access carries its purpose of use (TRE_R248)', async () => {
    const { res, rid } = await call('breakGlass', 'get', `Patient/${pid}`);
    expect(res.status).toBe(200);
    const coding = only(await auditsOf(rid)).purposeOfEvent?.[0]?.coding?.[0];
    expect(coding).toMatchObject({ system: 'https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces', code: 'bris_de_glace' });
  });

  test('a document hidden from the patient is named only as "a document", without its reference or title', async () => {
    const { res, rid } = await call('gp', 'get', `DocumentReference/${hiddenDoc}`);
    expect(res.status).toBe(200);
    const ev = only(await auditsOf(rid));
    expect(JSON.stringify(ev)).not.toContain(hiddenDoc);
    expect(JSON.stringify(ev)).not.toContain('Annonce diagnostique');
    expect(ev.entity?.some((e) => e.what?.display === 'Un document')).toBe(true);
  });

  test('a search across DMPs writes one AuditEvent per DMP, each naming only its patient', async () => {
    const other = (await (await world.as('gp')).post('Patient', dmpPatient('270017512345612'))).body.id;
    await (await world.as('author')).post('DocumentReference', dmpDocument(other, '11488-4'));
    const { res, rid } = await call('gp', 'get', 'DocumentReference?_count=100');
    expect(res.status).toBe(200);
    const events = await auditsOf(rid);
    const patientsOf = (ev: AuditEvent) => refs(ev).filter((r) => r?.startsWith('Patient/'));
    expect(events.map(patientsOf).sort()).toEqual([[`Patient/${other}`], [`Patient/${pid}`]].sort());
  });

  test('each AuditEvent is a link of its patient chain: seq and previous hash', async () => {
    const links = await world.store.chainLinks(patientChain(pid), 0, 100000);
    expect(links.length).toBeGreaterThan(5);
    links.forEach((l, i) => expect(l.seq).toBe(i + 1));
    const bundle = (await (await world.as('patient', pid)).get(`AuditEvent?patient=Patient/${pid}&_count=1`)).body as Bundle;
    const ext = (bundle.entry?.[0]?.resource as AuditEvent).extension?.[0];
    expect(ext?.extension?.map((e) => e.url)).toEqual(['chain', 'seq', 'previous']);
  });
});
