import type { Communication, Resource } from '@medplum/fhirtypes';
import type { Notifier } from '../../src/audit/notify';
import { webhookSender } from '../../src/audit/notify/senders';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type ActorName, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { access, communications, notifier, principal, professional, startReceiver, waitFor, type Receiver } from './notify-support';

/**
 * DMP-RULES.md § 8 item 13: notifications are Communications the patient
 * can read; Communication is a patient-only type (§ 6 matrix), so no
 * professional reads them, médecin traitant and emergency modes included.
 */
describe.each(STORES)('notifications as the patient reads them over HTTP ($name)', (fixture) => {
  let world: DmpWorld;
  let receiver: Receiver;
  let n: Notifier;
  let P: string;
  let notices: Communication[];
  beforeAll(async () => {
    world = await openDmpWorld(fixture);
    receiver = await startReceiver([200]);
    n = notifier(world.store, webhookSender({ url: receiver.url, timeoutMs: 5_000 }));
    n.start();
    const gp = await world.as('gp');
    P = (await gp.post('Patient', dmpPatient('280017512345611')).expect(201)).body.id;
    const patient = await world.as('patient', P);
    await patient.post('Consent', dmpConsent(P, 'permit', [RPPS.pharmacist])).expect(201);
    const lab = await world.as('lab');
    const doc = (await lab.post('DocumentReference', dmpDocument(P, '11502-2')).expect(201)).body as Resource;
    // What the audit core reports after these requests (their AuditEvents durable).
    await n.afterInteraction(access(professional(RPPS.gp, '10'), [P], { interaction: 'create' }));
    await n.afterInteraction(access(principal({ role: 'feeder', sub: 'lab-biomed', organization: 'lab-1' }), [P], { interaction: 'create', created: doc }));
    await n.afterInteraction(access(professional(RPPS.emergency, '10', 'bris_de_glace'), [P]));
    // Sent, so each has been rewritten by the claim and the completion: still indexed in the DMP.
    notices = await waitFor(async () => {
      const all = await communications(world.store);
      return all.length === 3 && all.every((c) => c.status === 'completed') ? all : undefined;
    });
    // Nothing left to send: no polling behind the HTTP checks.
    await n.stop();
  });
  afterAll(async () => {
    await n?.stop();
    await receiver?.close();
    await world?.close();
  });

  test('the patient finds every notification of the DMP, and reads each', async () => {
    const patient = await world.as('patient', P);
    const bundle = (await patient.get(`Communication?subject=Patient/${P}`).expect(200)).body;
    expect(bundle.total).toBe(3);
    expect(ids(bundle).sort()).toEqual(notices.map((c) => c.id).sort());
    for (const c of notices) {
      const read = (await patient.get(`Communication/${c.id}`).expect(200)).body as Communication;
      expect(read.payload?.[0]?.contentString).toBe(c.payload?.[0]?.contentString);
      expect(read.status).toBe('completed');
    }
    expect((await patient.get(`Communication?recipient=Patient/${P}&status=completed`).expect(200)).body.total).toBe(3);
  });

  test('a legal representative of the patient reads them too', async () => {
    const representative = await world.as('representative', P);
    expect((await representative.get(`Communication?subject=Patient/${P}`).expect(200)).body.total).toBe(3);
    await representative.get(`Communication/${notices[0].id}`).expect(200);
  });

  test.each<ActorName>(['gp', 'pharmacist', 'breakGlass', 'regulator'])('%s, who may read the DMP, neither reads nor finds them (404, empty search)', async (actor) => {
    const client = await world.as(actor);
    for (const c of notices) {
      const res = await client.get(`Communication/${c.id}`);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain('RPPS');
    }
    const bundle = (await client.get(`Communication?subject=Patient/${P}`).expect(200)).body;
    expect(bundle.total ?? 0).toBe(0);
    expect(ids(bundle)).toEqual([]);
    expect(ids((await client.get('Communication').expect(200)).body)).toEqual([]);
  });

  test.each<ActorName>(['stranger', 'lab', 'insurer'])('%s, with no right to the DMP, reads nothing', async (actor) => {
    const client = await world.as(actor);
    for (const c of notices) {
      const res = await client.get(`Communication/${c.id}`);
      expect([403, 404]).toContain(res.status);
      expect(JSON.stringify(res.body)).not.toContain('RPPS');
    }
  });

  test("another patient reads none of them", async () => {
    const other = await world.as('patient', 'someone-else');
    for (const c of notices) expect([403, 404]).toContain((await other.get(`Communication/${c.id}`)).status);
    const res = await other.get('Communication');
    if (res.status === 200) expect(ids(res.body)).toEqual([]);
  });
});
