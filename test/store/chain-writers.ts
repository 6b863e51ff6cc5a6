import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import type { ResourceStore } from '../../src/store/port';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { StoreFixture } from '../support/stores';

/**
 * Several writers on one database, for the hash-chain suite
 * (audit-chain.test.ts): two store instances of one adapter, and a child
 * process appending through its own store.
 */

const ROOT = path.join(__dirname, '..', '..');

/** Two stores on one database of the fixture's adapter (SQLite: one file in a temp dir). */
export async function twoStores(fixture: StoreFixture): Promise<{ stores: [ResourceStore, ResourceStore]; dispose(): Promise<void>; child: Record<string, string> }> {
  if (fixture.name === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-chain-'));
    const stores: [ResourceStore, ResourceStore] = [new SqliteStore({ dataDir: dir }), new SqliteStore({ dataDir: dir })];
    return {
      stores,
      child: { KIND: 'sqlite', DIR: dir },
      async dispose() {
        await Promise.all(stores.map((s) => s.close()));
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = process.env.MONGODB_URL as string;
  const dbName = `test_${crypto.randomBytes(6).toString('hex')}`;
  const stores: [MongoStore, MongoStore] = [new MongoStore({ url, dbName }), new MongoStore({ url, dbName })];
  await Promise.all(stores.map((s) => s.init()));
  return {
    stores,
    child: { KIND: 'mongo', URL: url, DB: dbName },
    async dispose() {
      await stores[0].dropDatabase();
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

/**
 * A child process appending `n` records to `chain` (two at a time) through
 * its own store (the compiled dist/, built by the global setup) once told to
 * go; resolves with its exit once it is done.
 */
const CHILD = `
const crypto = require('node:crypto');
const env = process.env;
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
(async () => {
  const store = env.KIND === 'sqlite'
    ? new (require(env.ROOT + '/dist/src/store/sqlite/sqlite-store.js').SqliteStore)({ dataDir: env.DIR })
    : new (require(env.ROOT + '/dist/src/store/mongo/mongo-store.js').MongoStore)({ url: env.URL, dbName: env.DB });
  await store.init();
  process.stdout.write('ready\\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const append = (i) => {
    const id = env.PREFIX + i;
    return store.appendChained([{
      chain: env.CHAIN,
      seal(head) {
        const json = JSON.stringify({ resourceType: 'AuditEvent', id, prev: head ?? null });
        return { json, hash: sha((head ? head.hash : '') + '\\n' + json) };
      },
    }]);
  };
  // A pause between pairs (DELAY_MS) keeps the child appending while the other writer does.
  for (let i = 0; i < Number(env.N); i += 2) {
    await Promise.all([append(i), append(i + 1)]);
    await new Promise((resolve) => setTimeout(resolve, Number(env.DELAY_MS || 0)));
  }
  await store.close();
})().then(() => process.exit(0), (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

export function childAppender(env: Record<string, string>): { ready: Promise<void>; go(): void; exit: Promise<void> } {
  const child = spawn(process.execPath, ['-e', CHILD], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ROOT, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exit = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    exit.catch(reject);
  });
  return { ready, go: () => child.stdin.end('go\n'), exit };
}
