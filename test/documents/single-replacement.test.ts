import type { AuditEvent, DocumentReference } from '@medplum/fhirtypes';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/**
 * DMP-RULES.md § 3 rule 6 outside ITI-65: a single DocumentReference POSTed
 * with `relatesTo.code = replaces` makes the old one superseded with it, or
 * nothing is stored.
 */
describe.each(STORES)('replacement by a single DocumentReference ($name)', (fixture) => {
  let w: DmpWorld;
  let gp: Client;
  let author: Client;
  let P: string;

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
    author = await w.as('author');
    P = (await gp.post('Patient', dmpPatient('278047512345609'))).body.id;
  });
  afterAll(async () => {
    await w.close();
  });

  const post = (as: Client, title: string, replaces?: string) =>
    as.post('DocumentReference', {
      ...dmpDocument(P, '11488-4', [], title),
      ...(replaces ? { relatesTo: [{ code: 'replaces', target: { reference: replaces } }] } : {}),
    });
  const all = async () => ids((await gp.get(`DocumentReference?patient=${P}&_count=100`)).body).sort();

  test('the new document is created and the old one becomes superseded, in one commit; status=current finds only the new one', async () => {
    const old = (await post(author, 'CR v1')).body.id as string;
    const res = await post(author, 'CR v2', `DocumentReference/${old}`);
    expect(res.status).toBe(201);
    const now = (await gp.get(`DocumentReference/${old}`)).body as DocumentReference;
    expect(now.status).toBe('superseded');
    expect(now.meta?.versionId).toBe('2');
    expect((res.body as DocumentReference).relatesTo?.[0]?.target?.reference).toBe(`DocumentReference/${old}`);
    const current = ids((await gp.get(`DocumentReference?patient=${P}&status=current&_count=100`)).body);
    expect(current).toContain(res.body.id);
    expect(current).not.toContain(old);
    // One AuditEvent for the interaction, naming the new document and the one it superseded.
    const events: AuditEvent[] = [];
    for (const link of await w.store.chainLinks(`Patient/${P}`, 0, 100000)) events.push(JSON.parse(link.json) as AuditEvent);
    const create = events.filter((e) => e.subtype?.[0]?.code === 'create' && e.entity?.some((x) => x.what?.reference?.startsWith(`DocumentReference/${res.body.id}`)));
    expect(create).toHaveLength(1);
    expect(create[0].entity?.map((x) => x.what?.reference)).toContain(`DocumentReference/${old}/_history/2`);
  });

  test("only the old document's author may replace it: another professional's replacement stores nothing", async () => {
    const old = (await post(author, 'by the author')).body.id as string;
    const before = await all();
    const res = await post(gp, 'by the gp', `DocumentReference/${old}`);
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.text).toMatch(/not-the-author/);
    expect(await all()).toEqual(before);
    expect((await gp.get(`DocumentReference/${old}`)).body.status).toBe('current');
  });

  test('replacing an unknown, a hidden or a deleted document is a 422 that reveals nothing, and stores nothing', async () => {
    const before = await all();
    const unknown = await post(author, 'replaces nothing', 'DocumentReference/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(422);
    expect(unknown.body.issue[0].expression).toEqual(['DocumentReference.relatesTo']);
    // A document the matrix hides from an authorised dietitian: the same answer as an unknown one.
    expect((await (await w.as('patient', P)).post('Consent', dmpConsent(P, 'permit', [RPPS.dietitian]))).status).toBe(201);
    const dietitian = await w.as('dietitian');
    const other = (await post(author, 'not for dietitians')).body.id as string;
    expect((await dietitian.get(`DocumentReference/${other}`)).status).toBe(404);
    const hidden = await post(dietitian, 'replaces a hidden one', `DocumentReference/${other}`);
    expect(hidden.status).toBe(422);
    expect(hidden.body.issue[0].details.text.replace(other, 'X')).toBe(unknown.body.issue[0].details.text.replace('00000000-0000-4000-8000-000000000000', 'X'));
    const gone = (await post(author, 'to delete')).body.id as string;
    expect((await author.delete(`DocumentReference/${gone}`)).status).toBeLessThan(300);
    const deleted = await post(author, 'replaces a deleted one', `DocumentReference/${gone}`);
    expect(deleted.status).toBe(422);
    expect(deleted.body.issue[0].details.text).toMatch(/deleted/);
    const after = await all();
    expect(after.filter((id) => !before.includes(id))).toEqual([other].sort());
    expect((await gp.get(`DocumentReference/${other}`)).body.status).toBe('current');
  });

  test('a document of a DMP the caller has no right to is refused as a read of it would be (403), and nothing is stored', async () => {
    const Q = (await gp.post('Patient', dmpPatient('181017512345687'))).body.id as string;
    const theirs = (await gp.post('DocumentReference', dmpDocument(Q, '11488-4', [], 'in another DMP'))).body.id as string;
    const stranger = await w.as('stranger');
    expect((await stranger.get(`DocumentReference/${theirs}`)).status).toBe(403);
    const before = await all();
    const res = await post(stranger, 'replaces another DMP', `DocumentReference/${theirs}`);
    expect(res.status).toBe(403);
    expect(await all()).toEqual(before);
    // The refusal is the replaced document's: the same document without relatesTo is accepted.
    expect((await post(stranger, 'fed without replacing')).status).toBe(201);
    expect((await gp.get(`DocumentReference/${theirs}`)).body.status).toBe('current');
  });
});
