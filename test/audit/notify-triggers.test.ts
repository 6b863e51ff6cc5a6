import type { Resource } from '@medplum/fhirtypes';
import { DMP_BASE, RPPS_SYSTEM, VISIBILITY_SYSTEM } from '../../src/access/codes';
import type { Notifier } from '../../src/audit/notify';
import { consoleSender } from '../../src/audit/notify/senders';
import { createValidator } from '../../src/fhir/validation';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { access, attemptsOf, categoryOf, communications, notifier, principal, professional, put, textOf } from './notify-support';

/** A sender that is never reached: these tests only look at what goes into the outbox (the dispatcher is not started). */
const idle = consoleSender();

const GP = professional('10000000001', '10');
const PHARMACIST = professional('21000000003', '21');
const BREAK_GLASS = professional('10000000007', '10', 'bris_de_glace');
const REGULATOR = principal({ role: 'regulator', rpps: '10000000008', purposeOfUse: 'centre_15' });
const LAB = principal({ role: 'feeder', sub: 'lab-biomed', organization: 'lab-1' });

function document(patient: string, id: string, labels: string[] = []): Resource {
  return {
    resourceType: 'DocumentReference',
    id,
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '11502-2' }] },
    subject: { reference: `Patient/${patient}` },
    description: 'Hémoglobine glyquée 9,1 %',
    securityLabel: labels.map((code) => ({ coding: [{ system: VISIBILITY_SYSTEM, code }] })),
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('HbA1c 9,1 %').toString('base64') } }],
  } as Resource;
}

/** The store, counting every call made to it, and the searches per type (the calls still reach it). */
function counted(store: ResourceStore): { store: ResourceStore; calls: () => number; searchesOf: (type: string) => number } {
  let calls = 0;
  const searches = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls++;
        if (prop === 'search') {
          for (const t of (args[0] as { types: string[] }).types) searches.set(t, (searches.get(t) ?? 0) + 1);
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls: () => calls, searchesOf: (type) => searches.get(type) ?? 0 };
}

describe.each(STORES)('which notifications an interaction triggers ($name)', (fixture) => {
  let store: ResourceStore;
  let n: Notifier;
  beforeEach(async () => {
    store = await fixture.open();
    n = notifier(store, idle);
  });
  afterEach(async () => {
    await n.stop();
    await fixture.dispose(store);
  });
  const byCategory = async (category: string, patient?: string) =>
    (await communications(store)).filter((c) => categoryOf(c) === category && (!patient || c.subject?.reference === `Patient/${patient}`));

  test("a professional's first access is notified once; a second access is not; another professional's is", async () => {
    await n.afterInteraction(access(GP, ['p1']));
    expect(await byCategory('first-access', 'p1')).toHaveLength(1);
    await n.afterInteraction(access(GP, ['p1'], { interaction: 'search' }));
    await n.afterInteraction(access(GP, ['p1'], { interaction: 'history' }));
    expect(await byCategory('first-access', 'p1')).toHaveLength(1);
    await n.afterInteraction(access(PHARMACIST, ['p1']));
    const notices = await byCategory('first-access', 'p1');
    expect(notices).toHaveLength(2);
    expect(notices.map(textOf).sort()).toEqual([expect.stringContaining('RPPS 10000000001'), expect.stringContaining('RPPS 21000000003')]);
  });

  test('a search touching several DMPs notifies each patient of the first access', async () => {
    await n.afterInteraction(access(GP, ['p1', 'p2', 'p2', '#unresolved'], { interaction: 'search' }));
    expect((await byCategory('first-access')).map((c) => c.subject?.reference).sort()).toEqual(['Patient/p1', 'Patient/p2']);
  });

  test('the first access is durable: a restarted notifier (empty cache) does not notify it again', async () => {
    await n.afterInteraction(access(GP, ['p1']));
    const restarted = notifier(store, idle);
    await restarted.afterInteraction(access(GP, ['p1']));
    await restarted.stop();
    expect(await byCategory('first-access', 'p1')).toHaveLength(1);
  });

  test('a pair known to be notified costs no store access at all', async () => {
    await n.afterInteraction(access(GP, ['p1']));
    const c = counted(store);
    const fresh = notifier(c.store, idle);
    await fresh.afterInteraction(access(GP, ['p1']));
    // Not known yet to this process: one refused write (the unique key) says it was notified.
    expect(c.calls()).toBeGreaterThan(0);
    const before = c.calls();
    for (let i = 0; i < 5; i++) await fresh.afterInteraction(access(GP, ['p1'], { interaction: 'search' }));
    // A patient's own read and a denied one touch nothing either.
    await fresh.afterInteraction(access(principal({ role: 'patient', patient: 'p1' }), ['p1']));
    await fresh.afterInteraction(access(PHARMACIST, ['p1'], { outcome: 'denied' }));
    expect(c.calls()).toBe(before);
    await fresh.stop();
    expect(await byCategory('first-access', 'p1')).toHaveLength(1);
  });

  test('a name the audit looked up, found or not, is not searched again in the directory', async () => {
    const c = counted(store);
    const fresh = notifier(c.store, idle);
    const searches = () => c.searchesOf('Practitioner');
    await fresh.afterInteraction(access(GP, ['p1'], { agentName: null }));
    await fresh.afterInteraction(access(PHARMACIST, ['p2'], { agentName: 'Dr Anne MARTIN' }));
    expect(searches()).toBe(0);
    await fresh.afterInteraction(access(BREAK_GLASS, ['p3']));
    expect(searches()).toBe(1);
    await fresh.stop();
    expect((await byCategory('first-access', 'p2'))[0].payload?.[0]?.contentString).toContain('Dr Anne MARTIN');
  });

  test('every emergency access is notified, bris de glace and Centre 15 alike, and is not a first access', async () => {
    await n.afterInteraction(access(BREAK_GLASS, ['p1']));
    await n.afterInteraction(access(BREAK_GLASS, ['p1']));
    await n.afterInteraction(access(REGULATOR, ['p1']));
    const notices = await byCategory('emergency-access', 'p1');
    expect(notices).toHaveLength(3);
    expect(notices.filter((c) => textOf(c).includes('bris de glace'))).toHaveLength(2);
    expect(notices.filter((c) => textOf(c).includes('SAMU-Centre 15'))).toHaveLength(1);
    expect(await byCategory('first-access')).toHaveLength(0);
  });

  test('a new document is notified once, whoever fed it, without its content', async () => {
    const created = document('p1', 'd1');
    await n.afterInteraction(access(LAB, ['p1'], { interaction: 'create', created }));
    // The same report again (a retried call) does not notify twice.
    await n.afterInteraction(access(LAB, ['p1'], { interaction: 'create', created }));
    const notices = await byCategory('new-document', 'p1');
    expect(notices).toHaveLength(1);
    expect(textOf(notices[0])).toContain('lab-biomed');
    expect(textOf(notices[0])).not.toMatch(/glyqu|9,1|HbA1c|11502/i);
    expect(notices[0].about).toEqual([{ reference: 'DocumentReference/d1' }]);
    // A feeder is no professional: no first-access notice.
    expect(await byCategory('first-access')).toHaveLength(0);
  });

  test('a document fed by a professional is notified, and so is his first access', async () => {
    await n.afterInteraction(access(GP, ['p1'], { interaction: 'create', created: document('p1', 'd2') }));
    expect(await byCategory('new-document', 'p1')).toHaveLength(1);
    expect(await byCategory('first-access', 'p1')).toHaveLength(1);
  });

  test("the patient's own upload, and a document INVISIBLE_PATIENT, notify nothing", async () => {
    await n.afterInteraction(access(principal({ role: 'patient', patient: 'p1' }), ['p1'], { interaction: 'create', created: document('p1', 'd3') }));
    await n.afterInteraction(access(LAB, ['p1'], { interaction: 'create', created: document('p1', 'd4', ['INVISIBLE_PATIENT']) }));
    expect(await communications(store)).toHaveLength(0);
  });

  test('denied and failed interactions trigger nothing', async () => {
    for (const outcome of ['denied', 'error'] as const) {
      await n.afterInteraction(access(GP, ['p1'], { outcome }));
      await n.afterInteraction(access(BREAK_GLASS, ['p1'], { outcome }));
      await n.afterInteraction(access(LAB, ['p1'], { outcome, interaction: 'create', created: document('p1', 'd5') }));
    }
    expect(await communications(store)).toHaveLength(0);
    // And a denied first access does not count: the next, successful one is notified.
    await n.afterInteraction(access(GP, ['p1']));
    expect(await byCategory('first-access', 'p1')).toHaveLength(1);
  });

  test('the notice names the professional from the directory, his RPPS and profession', async () => {
    await put(store, {
      resourceType: 'Practitioner',
      id: 'pr1',
      identifier: [{ system: RPPS_SYSTEM, value: '21000000003' }],
      name: [{ family: 'Durand', given: ['Claire'], prefix: ['Dr'] }],
    } as Resource & { id: string });
    await n.afterInteraction(access(PHARMACIST, ['p1']));
    const [notice] = await byCategory('first-access', 'p1');
    expect(textOf(notice)).toContain('Dr Claire Durand (RPPS 21000000003, profession 21 (Pharmacien))');
  });

  test('each notice is a valid R4 Communication of the DMP, coded with a DMP system', async () => {
    await n.afterInteraction(access(GP, ['p1'], { interaction: 'create', created: document('p1', 'd6') }));
    await n.afterInteraction(access(BREAK_GLASS, ['p1']));
    const all = await communications(store, [['subject', 'Patient/p1']]);
    expect(all).toHaveLength(3);
    const validator = createValidator();
    for (const c of all) {
      expect(validator.validate(c).filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
      expect(c).toMatchObject({ resourceType: 'Communication', status: 'preparation', subject: { reference: 'Patient/p1' }, recipient: [{ reference: 'Patient/p1' }] });
      expect(c.category?.[0]?.coding?.[0]?.system?.startsWith(DMP_BASE)).toBe(true);
      expect(c.meta?.versionId).toBe('1');
      expect(attemptsOf(c)).toBe(0);
    }
    // Found by the FHIR search parameters too (the index is the app's).
    expect(await communications(store, [['recipient', 'Patient/p1'], ['status', 'preparation']])).toHaveLength(3);
  });
});
