import type { Communication, Resource } from '@medplum/fhirtypes';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadAccessMatrix } from '../../src/access/matrix';
import { dmpIndexer, Notifier, type InteractionSummary, type NotifierOptions } from '../../src/audit/notify';
import type { Sender } from '../../src/audit/notify/senders';
import type { Principal } from '../../src/auth/principal';
import { loadDefinitions } from '../../src/fhir/definitions';
import { parseSearch } from '../../src/fhir/search/parse';
import { stampMeta } from '../../src/fhir/versioning';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import type { ResourceStore } from '../../src/store/port';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { BASE_URL } from '../support/app';
import type { StoreFixture } from '../support/stores';

loadDefinitions();

/** The indexer createApp uses (search parameters + access entries), so Communications land in the patient's DMP. */
export const indexer = dmpIndexer(BASE_URL, loadAccessMatrix());

/** Fast delivery for tests: retries and polls in milliseconds. */
export const FAST: NotifierOptions = { pollMs: 20, retryMs: 20, maxRetryMs: 200, leaseMs: 5_000, maxAttempts: 3 };

export function notifier(store: ResourceStore, sender: Sender, options: NotifierOptions = {}, now?: () => number): Notifier {
  return new Notifier({ store, indexer, sender, now, logger: pino({ level: 'silent' }), options: { ...FAST, ...options } });
}

export const principal = (p: Partial<Principal> & Pick<Principal, 'role'>): Principal => ({
  sub: `${p.role}-${p.rpps ?? p.patient ?? 'client'}`,
  purposeOfUse: 'normal',
  scopes: [],
  ...p,
});
export const professional = (rpps: string, profession = '10', purposeOfUse: Principal['purposeOfUse'] = 'normal') =>
  principal({ role: 'professional', rpps, profession, purposeOfUse });

/** A summary as the audit core hands it over. */
export function access(p: Principal, patients: string[], over: Partial<InteractionSummary> = {}): InteractionSummary {
  return { principal: p, interaction: 'read', outcome: 'success', patients, at: '2026-12-01T20:15:00.000Z', ...over };
}

/** Writes a resource straight to the store (version 1), indexed as the app would. */
export async function put(store: ResourceStore, r: Resource & { id: string }): Promise<void> {
  const lastUpdated = new Date().toISOString();
  const stamped = stampMeta(r, r.id, 1, lastUpdated);
  await store.write({
    type: r.resourceType,
    id: r.id,
    versionId: 1,
    expectedVersion: 0,
    lastUpdated,
    method: 'POST',
    deleted: false,
    json: JSON.stringify(stamped),
    index: indexer.extract(stamped),
  });
}

/** Every Communication in the store (current versions), by one search. */
export async function communications(store: ResourceStore, params: [string, string][] = []): Promise<Communication[]> {
  const { plan } = parseSearch(['Communication'], [...params, ['_count', '500']], { baseUrl: BASE_URL, defaultCount: 500, maxCount: 500, lenient: false });
  const page = await store.search(plan);
  return page.matches.map((m) => JSON.parse(m.json as string) as Communication);
}

export const categoryOf = (c: Communication) => c.category?.[0]?.coding?.[0]?.code;
export const textOf = (c: Communication) => c.payload?.[0]?.contentString ?? '';
export const attemptsOf = (c: Communication) => c.extension?.[0]?.extension?.find((e) => e.url === 'attempts')?.valueInteger;

/** Polls until `check` returns a value (not undefined / false), or fails after `ms`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A real HTTP receiver on loopback: answers with the scripted statuses (then the last one), records the bodies. */
export interface Receiver {
  url: string;
  /** Every request body, in order of arrival, with the status answered. */
  requests: { status: number; body: { id: string; patient: string; text: string; to: { email?: string } } }[];
  /** Bodies answered 2xx. */
  delivered(): { id: string }[];
  close(): Promise<void>;
}

export async function startReceiver(statuses: number[] = [200]): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[Math.min(requests.length, statuses.length - 1)];
      requests.push({ status, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'failed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    requests,
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.body),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Two store instances on one database (what two server processes see), and how to throw them away. */
export async function twoStoresOnOneDatabase(fixture: StoreFixture): Promise<{ a: ResourceStore; b: ResourceStore; dispose(): Promise<void> }> {
  if (fixture.name === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-notify-'));
    const a = new SqliteStore({ dataDir: dir });
    const b = new SqliteStore({ dataDir: dir });
    await a.init();
    await b.init();
    return {
      a,
      b,
      async dispose() {
        await Promise.all([a.close(), b.close()]);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const dbName = `test_${crypto.randomBytes(6).toString('hex')}`;
  const a = new MongoStore({ url: process.env.MONGODB_URL as string, dbName });
  const b = new MongoStore({ url: process.env.MONGODB_URL as string, dbName });
  await a.init();
  await b.init();
  return {
    a,
    b,
    async dispose() {
      await a.dropDatabase();
      await Promise.all([a.close(), b.close()]);
    },
  };
}
