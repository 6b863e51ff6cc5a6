import type { Communication } from '@medplum/fhirtypes';
import type { Notifier } from '../../src/audit/notify';
import { webhookSender } from '../../src/audit/notify/senders';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { access, categoryOf, communications, notifier, professional, startReceiver, twoStoresOnOneDatabase, waitFor, type Receiver } from './notify-support';

const BREAK_GLASS = professional('10000000007', '10', 'bris_de_glace');
/**
 * The current version of every Communication, read by id (the store's
 * truth, from the versions). Not the search's view: on FerretDB the MongoDB adapter's current
 * document can fall behind under concurrent writers to one resource (reported
 * to the store's owner), and this test is about deliveries, not searches.
 */
async function current(store: ResourceStore): Promise<Communication[]> {
  const page = await store.history({ type: 'Communication', count: 1000 });
  const ids = [...new Set(page.entries.map((e) => e.id))];
  const versions = await Promise.all(ids.map((id) => store.readCurrent('Communication', id)));
  return versions.map((v) => JSON.parse(v?.json as string) as Communication);
}

const patients = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * Two server processes on one database, as far as the outbox can tell: two
 * store instances (two SQLite connections to one file; two MongoDB clients
 * on one database), each with its own Notifier and dispatcher.
 */
describe.each(STORES)('two notifiers on one database ($name)', (fixture) => {
  let a: ResourceStore;
  let b: ResourceStore;
  let dispose: () => Promise<void>;
  let receiver: Receiver;
  let na: Notifier;
  let nb: Notifier;
  beforeEach(async () => {
    ({ a, b, dispose } = await twoStoresOnOneDatabase(fixture));
    receiver = await startReceiver([200]);
    // Leases far longer than any send here: this is about live dispatchers racing. With FAST's 5 s, a claim on a
    // loaded CI machine (FerretDB writes slow down) could outlive its lease, and the other dispatcher would then take
    // it over and send it again, as designed for a crashed one (that takeover is tested in notify-delivery).
    na = notifier(a, webhookSender({ url: receiver.url, timeoutMs: 5_000 }), { batchSize: 50, leaseMs: 120_000 });
    nb = notifier(b, webhookSender({ url: receiver.url, timeoutMs: 5_000 }), { batchSize: 50, leaseMs: 120_000 });
  });
  afterEach(async () => {
    await Promise.all([na.stop(), nb.stop()]);
    await receiver.close();
    await dispose();
  });

  const expectEachDeliveredOnce = async (count: number) => {
    const all = await current(a);
    expect(all).toHaveLength(count);
    expect(all.filter((c) => c.status !== 'completed')).toEqual([]);
    const delivered = receiver.delivered().map((d) => d.id);
    expect(delivered).toHaveLength(count);
    expect(new Set(delivered)).toEqual(new Set(all.map((c) => c.id)));
    // Nothing was sent twice: every request the receiver got is a distinct notification.
    expect(receiver.requests).toHaveLength(count);
  };

  test('racing over the same due notifications, each is claimed and delivered exactly once', async () => {
    await na.afterInteraction(access(BREAK_GLASS, patients(12, 'a')));
    await nb.afterInteraction(access(BREAK_GLASS, patients(12, 'b')));
    // Both search at once, find the same 24, and try to claim every one of them.
    const [ha, hb] = await Promise.all([na.runOnce(), nb.runOnce()]);
    expect(ha).toBe(24);
    expect(hb).toBe(24);
    await expectEachDeliveredOnce(24);
  }, 60_000);

  test('two running dispatchers deliver everything exactly once', async () => {
    na.start();
    nb.start();
    for (let round = 0; round < 3; round++) {
      await Promise.all([na.afterInteraction(access(BREAK_GLASS, patients(4, `a${round}-`))), nb.afterInteraction(access(BREAK_GLASS, patients(4, `b${round}-`)))]);
    }
    await waitFor(async () => (await current(b)).filter((c) => c.status === 'completed').length === 24, 60_000);
    await expectEachDeliveredOnce(24);
  }, 90_000);

  test('two notifiers racing on the same first access write exactly one notification', async () => {
    const gp = professional('10000000001', '10');
    const ids = patients(10, 'p');
    await Promise.all(ids.flatMap((p) => [na.afterInteraction(access(gp, [p])), nb.afterInteraction(access(gp, [p])), na.afterInteraction(access(gp, [p]))]));
    const notices = (await communications(b)).filter((c) => categoryOf(c) === 'first-access');
    expect(notices.map((c) => c.subject?.reference).sort()).toEqual(ids.map((p) => `Patient/${p}`).sort());
    // And both now know: later accesses add nothing, through either process.
    await Promise.all(ids.map((p) => nb.afterInteraction(access(gp, [p]))));
    expect((await communications(a)).filter((c) => categoryOf(c) === 'first-access')).toHaveLength(10);
  });
});
