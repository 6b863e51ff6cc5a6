import type { Communication, Resource } from '@medplum/fhirtypes';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { Notifier } from '../../src/audit/notify';
import { newCommunication, withDelivery } from '../../src/audit/notify/communication';
import { Outbox } from '../../src/audit/notify/outbox';
import { fileSender, smtpSender, webhookSender } from '../../src/audit/notify/senders';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { access, attemptsOf, communications, indexer, notifier, professional, put, startReceiver, textOf, waitFor, type Receiver } from './notify-support';

const BREAK_GLASS = professional('10000000007', '10', 'bris_de_glace');
const delivery = (c: Communication, url: string) => c.extension?.[0]?.extension?.find((e) => e.url === url);

/** The one Communication of the store once it left the pending states. */
async function settled(store: ResourceStore): Promise<Communication> {
  return waitFor(async () => {
    const [c] = await communications(store);
    return c && (c.status === 'completed' || c.status === 'stopped') ? c : undefined;
  });
}

/** Decodes a quoted-printable (RFC 2045) UTF-8 body. */
function quotedPrintable(body: string): string {
  const soft = body.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
}

async function versions(store: ResourceStore, id: string): Promise<Communication[]> {
  const page = await store.history({ type: 'Communication', id, count: 50 });
  return page.entries.reverse().map((v) => JSON.parse(v.json as string) as Communication);
}

describe.each(STORES)('notification delivery ($name)', (fixture) => {
  let store: ResourceStore;
  let receiver: Receiver | undefined;
  let n: Notifier | undefined;
  beforeEach(async () => {
    store = await fixture.open();
  });
  afterEach(async () => {
    await n?.stop();
    await receiver?.close();
    n = receiver = undefined;
    await fixture.dispose(store);
  });

  test('a webhook answering 500 then 200: delivered once, after a retry, both attempts recorded', async () => {
    receiver = await startReceiver([500, 200]);
    n = notifier(store, webhookSender({ url: receiver.url, timeoutMs: 5_000 }));
    n.start();
    await n.afterInteraction(access(BREAK_GLASS, ['p1']));
    const c = await settled(store);
    expect(c.status).toBe('completed');
    expect(c.sent).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(attemptsOf(c)).toBe(2);
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 200]);
    expect(receiver.delivered()).toEqual([expect.objectContaining({ id: c.id, patient: 'p1', text: textOf(c) })]);
    // The versions tell the story: queued, claimed, failed (retry planned), claimed again, sent.
    const story = await versions(store, c.id as string);
    expect(story.map((v) => [v.status, attemptsOf(v)])).toEqual([
      ['preparation', 0],
      ['in-progress', 1],
      ['in-progress', 1],
      ['in-progress', 2],
      ['completed', 2],
    ]);
    expect(delivery(story[2], 'lastError')?.valueString).toBe('HTTP 500');
    expect(delivery(story[2], 'nextAttempt')?.valueInstant).toBeDefined();
    expect(delivery(story[1], 'leaseHolder')?.valueString).toMatch(/^[0-9a-f]{16}$/);
    // Delivered: no lease, no retry left on the Communication.
    expect(delivery(c, 'leaseHolder')).toBeUndefined();
    expect(delivery(c, 'nextAttempt')).toBeUndefined();
  });

  /** A running notifier, told of `gp`'s first access to p1, once that notice was sent to a receiver answering 200. */
  async function firstAccessSent(gp: ReturnType<typeof professional>): Promise<Communication> {
    receiver = await startReceiver([200]);
    n = notifier(store, webhookSender({ url: receiver.url, timeoutMs: 5_000 }));
    n.start();
    await n.afterInteraction(access(gp, ['p1']));
    return settled(store);
  }

  test('a first access stays notified once after its notice was sent (every version keeps the unique key)', async () => {
    const gp = professional('10000000001', '10');
    expect((await firstAccessSent(gp)).status).toBe('completed');
    const restarted = notifier(store, webhookSender({ url: (receiver as Receiver).url, timeoutMs: 5_000 }));
    await restarted.afterInteraction(access(gp, ['p1']));
    await restarted.stop();
    expect(await communications(store)).toHaveLength(1);
  });

  test('a first access already notified (found by a restarted process) does not wake the dispatcher; a new one does', async () => {
    const gp = professional('10000000001', '10');
    await firstAccessSent(gp);
    await n?.stop();
    // The restarted process: no polling during the test, so every search for due notifications is a wake.
    let dueSearches = 0;
    const counting = new Proxy(store, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv) as unknown;
        if (prop !== 'search' || typeof v !== 'function') return v;
        return (plan: { types: string[] }) => {
          if (plan.types.includes('Communication')) dueSearches++;
          return (v as (p: unknown) => unknown).call(target, plan);
        };
      },
    });
    n = notifier(counting, webhookSender({ url: (receiver as Receiver).url, timeoutMs: 5_000 }), { pollMs: 60_000 });
    n.start();
    await waitFor(async () => dueSearches >= 1);
    await new Promise((r) => setTimeout(r, 50));
    const before = dueSearches;
    await n.afterInteraction(access(gp, ['p1']));
    await new Promise((r) => setTimeout(r, 100));
    expect(dueSearches).toBe(before);
    expect(await communications(store)).toHaveLength(1);
    await n.afterInteraction(access(gp, ['p2']));
    await waitFor(async () => dueSearches > before);
    expect(await communications(store)).toHaveLength(2);
  });

  test('retries back off exponentially, and the last failed attempt is recorded as stopped', async () => {
    receiver = await startReceiver([503]);
    // The real clock, with every reading kept: a planned retry is then exactly one reading plus its delay,
    // whatever the machine's load (the store's lastUpdated is stamped later, at write time).
    const readings: number[] = [];
    const clock = () => {
      const t = Date.now();
      readings.push(t);
      return t;
    };
    n = notifier(store, webhookSender({ url: receiver.url, timeoutMs: 5_000 }), { maxAttempts: 3, retryMs: 40, maxRetryMs: 10_000 }, clock);
    n.start();
    await n.afterInteraction(access(BREAK_GLASS, ['p1']));
    const c = await settled(store);
    expect(c.status).toBe('stopped');
    expect(attemptsOf(c)).toBe(3);
    expect(c.statusReason?.coding?.[0]?.code).toBe('attempts-exhausted');
    expect(c.statusReason?.text).toBe('HTTP 503');
    expect(c.sent).toBeUndefined();
    expect(receiver.requests).toHaveLength(3);
    // The planned delays: 40 ms after the first failure, 80 ms after the second.
    const retries = (await versions(store, c.id as string)).filter((v) => v.status === 'in-progress' && delivery(v, 'nextAttempt'));
    const planned = retries.map((v) => Date.parse(delivery(v, 'nextAttempt')?.valueInstant as string));
    expect(planned).toHaveLength(2);
    // Each retry is planned from the clock reading taken once the attempt failed, before the version is written.
    const readingBefore = (t: number) => Math.max(...readings.filter((r) => r <= t));
    expect(planned[0] - readingBefore(planned[0] - 40)).toBe(40);
    expect(planned[1] - readingBefore(planned[1] - 80)).toBe(80);
    // And a retry is never sent before its planned time: the third attempt came at least 80 ms after the second.
    expect(planned[1] - planned[0]).toBeGreaterThanOrEqual(80);
    // Stopped is final: nothing more is sent.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests).toHaveLength(3);
  });

  test('a claim whose lease expired (its dispatcher crashed) is claimed again; a live one is left alone', async () => {
    receiver = await startReceiver([200]);
    const outbox = new Outbox({ store, indexer, now: Date.now });
    const crashed = await outbox.add(
      withDelivery({ ...newCommunication({ category: 'emergency-access', patient: 'p1', text: 'Accès en urgence.' }), status: 'in-progress' }, {
        attempts: 1,
        leaseHolder: 'dead00dead00dead',
        leaseExpires: new Date(Date.now() - 1_000).toISOString(),
      }),
    );
    const live = await outbox.add(
      withDelivery({ ...newCommunication({ category: 'emergency-access', patient: 'p2', text: 'Accès en urgence.' }), status: 'in-progress' }, {
        attempts: 1,
        leaseHolder: 'busy00busy00busy',
        leaseExpires: new Date(Date.now() + 60_000).toISOString(),
      }),
    );
    n = notifier(store, webhookSender({ url: receiver.url, timeoutMs: 5_000 }));
    expect(await n.runOnce()).toBe(1);
    const [done] = await communications(store, [['_id', crashed.id]]);
    expect(done.status).toBe('completed');
    expect(attemptsOf(done)).toBe(2);
    const [untouched] = await communications(store, [['_id', live.id]]);
    expect(untouched.meta?.versionId).toBe('1');
    expect(receiver.delivered().map((b) => b.id)).toEqual([crashed.id]);
  });

  test('SMTP end to end: the e-mail reaches the SMTP server on loopback, to the patient’s address', async () => {
    const mails: { from: string; to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: (session.envelope.mailFrom || { address: '' }).address,
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    try {
      const port = (smtp.server.address() as AddressInfo).port;
      await put(store, {
        resourceType: 'Patient',
        id: 'p1',
        name: [{ family: 'Martin', given: ['Léa'] }],
        telecom: [
          { system: 'phone', value: '0102030405' },
          { system: 'email', value: 'ancienne@example.fr', use: 'old' },
          { system: 'email', value: 'lea.martin@example.fr', use: 'home' },
        ],
      } as Resource & { id: string });
      await put(store, { resourceType: 'Patient', id: 'p2', name: [{ family: 'Sans' }] } as Resource & { id: string });
      n = notifier(store, smtpSender({ url: `smtp://127.0.0.1:${port}`, from: 'DMP <ne-pas-repondre@dmp.example.fr>', timeoutMs: 5_000 }));
      n.start();
      await n.afterInteraction(access(BREAK_GLASS, ['p1', 'p2']));
      const [sent, unsendable] = await waitFor(async () => {
        const all = await communications(store);
        const p1 = all.find((c) => c.subject?.reference === 'Patient/p1');
        const p2 = all.find((c) => c.subject?.reference === 'Patient/p2');
        return p1?.status === 'completed' && p2?.status === 'stopped' ? [p1, p2] : undefined;
      });
      expect(mails).toHaveLength(1);
      expect(mails[0].from).toBe('ne-pas-repondre@dmp.example.fr');
      expect(mails[0].to).toEqual(['lea.martin@example.fr']);
      expect(mails[0].data).toMatch(new RegExp(`^X-DMP-Notification: ${sent.id}\r?$`, 'im'));
      // The body is the notification's text, and nothing more.
      expect(quotedPrintable(mails[0].data.split(/\r?\n\r?\n/).slice(1).join('\n')).trim()).toBe(textOf(sent));
      // No e-mail address: not sendable, stopped at once with the reason, nothing sent.
      expect(unsendable.statusReason?.coding?.[0]?.code).toBe('not-sendable');
      expect(unsendable.statusReason?.text).toBe('no e-mail address');
      expect(attemptsOf(unsendable)).toBe(1);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  test('the file sender appends one JSON line per notification', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-notify-file-'));
    const file = path.join(dir, 'sub', 'notifications.ndjson');
    try {
      n = notifier(store, fileSender(file));
      n.start();
      await n.afterInteraction(access(BREAK_GLASS, ['p1']));
      await n.afterInteraction(access(BREAK_GLASS, ['p1']));
      await waitFor(async () => (await communications(store)).filter((c) => c.status === 'completed').length === 2);
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; patient: string; category: string; text: string });
      expect(lines).toHaveLength(2);
      expect(new Set(lines.map((l) => l.id)).size).toBe(2);
      expect(lines[0]).toMatchObject({ patient: 'p1', category: 'emergency-access', text: expect.stringContaining('bris de glace') });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
