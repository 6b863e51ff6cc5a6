import { dmpPatient, openDmpWorld, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

const INS_SYSTEM = 'urn:oid:1.2.250.1.213.1.4.8';
const INS = '285047512399402';
const SENDERS = 8;

/** A transaction opening the DMP of a patient by INS, if nobody did (ifNoneExist). */
function openByIns(): unknown {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: dmpPatient(INS), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${INS_SYSTEM}|${INS}` } }],
  };
}

/** A transaction updating the Patient without If-Match (last write wins), and with it when `ifMatch` is given. */
function renaming(pid: string, n: number, ifMatch?: string): unknown {
  const resource = { ...dmpPatient(INS), id: pid, name: [{ family: `Martin-${n}`, given: ['Léa'] }] };
  return { resourceType: 'Bundle', type: 'transaction', entry: [{ resource, request: { method: 'PUT', url: `Patient/${pid}`, ...(ifMatch ? { ifMatch } : {}) } }] };
}

/**
 * Transactions that lose a race at commit are run again (service/transaction.ts):
 * several senders opening the DMP of one new patient by INS at the same
 * moment all succeed and one Patient is created; concurrent updates without
 * If-Match all apply. Before, all but one got a 409 for a conflict they
 * could do nothing about.
 * @see https://hl7.org/fhir/R4/http.html#trules
 */
describe.each(STORES)('transactions racing on one Patient ($name)', (fixture) => {
  let w: DmpWorld;
  let gp: Client;
  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
  });
  afterAll(async () => {
    await w.close();
  });

  const send = (bundles: unknown[]) => Promise.all(bundles.map((b) => gp.post('', b)));
  const failures = (responses: { status: number; body: { issue?: unknown } }[]) => responses.filter((r) => r.status !== 200).map((r) => [r.status, r.body.issue]);

  test(`${SENDERS} concurrent transactions opening the same INS: all 200, one Patient created (201 once), one AuditEvent each`, async () => {
    const responses = await send(Array.from({ length: SENDERS }, openByIns));
    expect(failures(responses)).toEqual([]);
    const patients = (await gp.get(`Patient?identifier=${INS_SYSTEM}|${INS}`)).body;
    expect(patients.total).toBe(1);
    const pid = patients.entry[0].resource.id as string;
    const statuses = responses.map((r) => r.body.entry[0].response.status as string);
    // One sender created the Patient; the others found it (200), whether they lost the race or came after.
    expect(statuses.filter((s) => s.startsWith('201'))).toHaveLength(1);
    expect(statuses.filter((s) => s.startsWith('200'))).toHaveLength(SENDERS - 1);
    expect(responses.every((r) => r.body.entry[0].response.location.startsWith(`Patient/${pid}/_history/1`))).toBe(true);
    // An attempt that lost the race left nothing behind: one AuditEvent per transaction entry.
    const links = await w.store.chainLinks(`Patient/${pid}`, 0, 1000);
    const creates = links.map((l) => JSON.parse(l.json) as { subtype?: { code?: string }[] }).filter((e) => e.subtype?.[0]?.code === 'create');
    expect(creates).toHaveLength(SENDERS);
  });

  test(`${SENDERS} concurrent transactions updating one Patient without If-Match: all 200, ${SENDERS} new versions`, async () => {
    const pid = (await gp.get(`Patient?identifier=${INS_SYSTEM}|${INS}`)).body.entry[0].resource.id as string;
    const before = Number((await gp.get(`Patient/${pid}`)).body.meta.versionId);
    const responses = await send(Array.from({ length: SENDERS }, (_, n) => renaming(pid, n)));
    expect(failures(responses)).toEqual([]);
    const versions = responses.map((r) => Number(/_history\/(\d+)$/.exec(r.body.entry[0].response.location)?.[1])).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: SENDERS }, (_, i) => before + 1 + i));
    expect(Number((await gp.get(`Patient/${pid}`)).body.meta.versionId)).toBe(before + SENDERS);
  });

  test('with If-Match, the transactions that lost the race fail their precondition when run again: 412 naming the entry', async () => {
    const pid = (await gp.get(`Patient?identifier=${INS_SYSTEM}|${INS}`)).body.entry[0].resource.id as string;
    const current = (await gp.get(`Patient/${pid}`)).body.meta.versionId as string;
    const responses = await send(Array.from({ length: SENDERS }, (_, n) => renaming(pid, 100 + n, `W/"${current}"`)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(SENDERS - 1);
    for (const r of responses.filter((x) => x.status === 412)) expect(r.body.issue[0].expression).toEqual(['Bundle.entry[0]']);
    expect(Number((await gp.get(`Patient/${pid}`)).body.meta.versionId)).toBe(Number(current) + 1);
  });
});
