import type { AuditEvent, Bundle, Parameters } from '@medplum/fhirtypes';
import { Label, RPPS_SYSTEM } from '../../src/access/codes';
import { patientChain } from '../../src/audit/codes';
import { dmpDocument, dmpPatient, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { tamperMongoLink } from '../support/tamper';

/**
 * The patient's access history (DMP-RULES.md § 8 items 11-12): who reads
 * it, what it shows, its filters, that clients cannot write it, and that a
 * record changed in the database is found by the chain verification.
 */
describe.each(STORES)('access history ($name)', (fixture) => {
  let world: DmpWorld;
  let pid: string;
  let childA: string;
  let doc: string;
  let patient: Client;

  const events = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as AuditEvent);
  const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);

  beforeAll(async () => {
    world = await openDmpWorld(fixture);
    const directory = { resourceType: 'Practitioner', identifier: [{ system: RPPS_SYSTEM, value: RPPS.gp }], name: [{ prefix: ['Dr'], given: ['Jean'], family: 'Durand' }] };
    expect((await (await world.as('admin')).post('Practitioner', directory)).status).toBe(201);
    const gp = await world.as('gp');
    pid = (await gp.post('Patient', dmpPatient('280017512345621'))).body.id;
    childA = (await gp.post('Patient', dmpPatient('280017512345622'))).body.id;
    doc = (await (await world.as('author')).post('DocumentReference', dmpDocument(pid, '11502-2', [], 'Bilan sanguin'))).body.id;
    await (await world.as('author')).post('DocumentReference', dmpDocument(pid, '11502-2', [Label.invisibleToPatient], 'Résultat à annoncer'));
    await gp.get(`DocumentReference/${doc}`);
    await (await world.as('breakGlass')).get(`DocumentReference?patient=${pid}`);
    patient = await world.as('patient', pid);
  });
  afterAll(() => world.close());

  test('the patient lists every access, newest first, with who, what, when and mode, without another request', async () => {
    const res = await patient.get(`AuditEvent?patient=Patient/${pid}&_count=100`);
    expect(res.status).toBe(200);
    const list = events(res.body);
    const recorded = list.map((e) => e.recorded as string);
    expect([...recorded].sort().reverse()).toEqual(recorded);
    const gpRead = list.find((e) => e.subtype?.[0]?.code === 'read' && e.agent?.[0]?.who?.identifier?.value === RPPS.gp);
    expect(gpRead?.entity?.find((x) => x.what?.reference?.startsWith(`DocumentReference/${doc}`))?.name).toBe('Bilan sanguin');
    expect(gpRead?.agent?.[0]?.role?.[1]?.coding?.[0]?.code).toBe('10');
    expect(gpRead?.agent?.[0]?.who?.display).toBe('Dr Jean Durand');
    const emergency = list.find((e) => e.agent?.[0]?.who?.identifier?.value === RPPS.emergency);
    expect(emergency?.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('bris_de_glace');
    // The creation of the document hidden from the patient is listed as "a document", its title never.
    expect(JSON.stringify(list)).not.toContain('Résultat à annoncer');
    expect(list.filter((e) => e.action === 'C').some((e) => e.entity?.some((x) => x.what?.display === 'Un document'))).toBe(true);
  });

  test('filters: action, subtype, outcome, agent, entity, date', async () => {
    const count = async (q: string) => ((await patient.get(`AuditEvent?patient=Patient/${pid}&_count=100&${q}`)).body as Bundle).entry?.length ?? 0;
    const all = await count('');
    expect(await count('action=C')).toBe(3);
    expect(await count('subtype=read')).toBeGreaterThanOrEqual(1);
    expect(await count('subtype=read')).toBeLessThan(all);
    expect(await count('outcome=0')).toBeGreaterThan(0);
    expect(await count('outcome=4')).toBe(0);
    // The médecin traitant opened the DMP and read the document.
    expect(await count(`altid=${RPPS.gp}`)).toBe(2);
    expect(await count(`altid=${RPPS.emergency}`)).toBe(1);
    expect(await count(`entity=DocumentReference/${doc}`)).toBeGreaterThanOrEqual(1);
    expect(await count('date=gt2000-01-01')).toBeGreaterThan(0);
    expect(await count('date=lt2000-01-01')).toBe(0);
    // Each history search is itself recorded: compare both parameters up to a fixed instant.
    const now = new Date().toISOString();
    expect(await count(`_lastUpdated=le${now}`)).toBe(await count(`date=le${now}`));
    expect(await count(`_lastUpdated=le${now}`)).toBeGreaterThan(all);
    expect(await count('action=C,R')).toBe((await count('action=C')) + (await count('action=R')));
  });

  test('a professional, the médecin traitant, the administrator and the representative of another child get 403', async () => {
    for (const actor of ['gp', 'pharmacist', 'admin'] as const) {
      const res = await (await world.as(actor)).get(`AuditEvent?patient=Patient/${pid}`);
      expect([actor, res.status]).toEqual([actor, 403]);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const otherRep = await world.as('representative', childA);
    expect((await otherRep.get(`AuditEvent?patient=Patient/${pid}`)).status).toBe(403);
    expect((await otherRep.get(`AuditEvent?patient=Patient/${childA}`)).status).toBe(200);
    expect((await (await world.as('gp')).get(`?_type=AuditEvent`)).status).toBe(403);
    expect((await (await world.as('admin')).get('AuditEvent/_history')).status).toBe(403);
    // A parameter outside the access history's narrow index is unknown for AuditEvent.
    expect((await patient.get(`AuditEvent?patient=Patient/${pid}&site=x`)).status).toBe(400);
  });

  test('AuditEvents cannot be created, changed or deleted through the API', async () => {
    const one = events((await patient.get(`AuditEvent?patient=Patient/${pid}&_count=1`)).body)[0];
    const admin = await world.as('admin');
    const attempts = [
      await admin.post('AuditEvent', { ...one, id: undefined }),
      await admin.put(`AuditEvent/${one.id}`, { ...one, outcome: '8' }),
      await admin.patch(`AuditEvent/${one.id}`, [{ op: 'replace', path: '/outcome', value: '8' }]),
      await admin.delete(`AuditEvent/${one.id}`),
      await admin.put(`AuditEvent?_id=${one.id}`, { ...one, outcome: '8' }),
      await admin.delete(`AuditEvent?_id=${one.id}`),
      await patient.post('AuditEvent', { ...one, id: undefined }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(405);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const again = events((await patient.get(`AuditEvent?_id=${one.id}`)).body)[0];
    expect(again.outcome).toBe(one.outcome);
  });

  test('$verify-audit: whole, then an AuditEvent changed in the database is found at its link', async () => {
    const first = await patient.post(`Patient/${pid}/$verify-audit`, { resourceType: 'Parameters' });
    expect(first.status).toBe(200);
    expect(param(first.body, 'result')?.valueBoolean).toBe(true);
    const admin = await (await world.as('admin')).get(`Patient/${pid}/$verify-audit`);
    expect(param(admin.body, 'result')?.valueBoolean).toBe(true);
    expect((await (await world.as('gp')).get(`Patient/${pid}/$verify-audit`)).status).toBe(403);

    const links = await world.store.chainLinks(patientChain(pid), 0, 1000);
    const target = links[2];
    const targetId = (JSON.parse(target.json) as AuditEvent).id as string;
    await tamper(world, patientChain(pid), target.seq, (ev) => ({ ...ev, outcome: '8' }));
    const after = (await patient.get(`Patient/${pid}/$verify-audit`)).body as Parameters;
    expect(param(after, 'result')?.valueBoolean).toBe(false);
    expect(param(after, 'brokenAt')?.valueInteger).toBe(target.seq);
    expect(param(after, 'reason')?.valueCode).toBe('altered');
    expect(param(after, 'auditEvent')?.valueReference?.reference).toBe(`AuditEvent/${targetId}`);
    // The patient reads the altered entry as it now is, by its id.
    expect((await patient.get(`AuditEvent/${targetId}`)).body.outcome).toBe('8');
  });
});

/** Changes an AuditEvent's stored JSON directly in the database, as an intruder would (both adapters). */
async function tamper(world: DmpWorld, chain: string, seq: number, change: (ev: AuditEvent) => AuditEvent): Promise<void> {
  const [link] = await world.store.chainLinks(chain, seq - 1, 1);
  const changed = change(JSON.parse(link.json) as AuditEvent);
  if (world.store.kind === 'sqlite') {
    const db = (world.store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): unknown } } }).db;
    db.prepare('UPDATE chain_entry SET json = ? WHERE chain = ? AND seq = ?').run(JSON.stringify(changed), chain, seq);
    return;
  }
  await tamperMongoLink(world.store, chain, seq, changed);
}
