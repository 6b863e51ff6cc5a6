import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import type { MongoStore } from '../../src/store/mongo/mongo-store';
import type { ChainHead, ResourceStore } from '../../src/store/port';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { STORES } from '../support/stores';
import { allLinks, chained, chainProblem, idOf, linkHash, recordJson, type TestChainedWrite } from './chain-support';
import { childAppender, twoStores } from './chain-writers';

/**
 * Hash-chained appends (ResourceStore.appendChained): each record is the
 * next link of its chain, in an append-only log outside the versioned
 * resources; the chain never forks nor has a gap, with concurrent writers in
 * one process, in two store instances and in two processes on one database;
 * links are returned with the record as stored now, so a record altered in
 * the database no longer matches.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */

describe.each(STORES)('hash-chained appends ($name)', (fixture) => {
  let store: ResourceStore;
  beforeEach(async () => {
    store = await fixture.open();
  });
  afterEach(async () => {
    await fixture.dispose(store);
  });

  test('sequential appends: seq 1..n, each seal gets the previous head; read oldest or newest first; not a versioned resource', async () => {
    const chain = 'Patient/p1';
    expect(await store.chainHead(chain)).toBeUndefined();
    expect(await store.chainLinks(chain, 0, 10)).toEqual([]);
    expect(await store.chainLinksBefore(chain, undefined, 10)).toEqual([]);
    let head: ChainHead | undefined;
    const writes: TestChainedWrite[] = [];
    for (let i = 1; i <= 5; i++) {
      const w = chained(chain, `a${i}`);
      await store.appendChained([w]);
      expect(w.calls[w.calls.length - 1]).toEqual(head);
      head = { seq: i, hash: w.sealed?.hash as string };
      expect(await store.chainHead(chain)).toEqual(head);
      writes.push(w);
    }
    const links = await allLinks(store, chain, 2);
    expect(chainProblem(links)).toBeUndefined();
    expect(links.map((l) => [l.seq, l.hash, l.json])).toEqual(writes.map((w, i) => [i + 1, w.sealed?.hash, w.sealed?.json]));
    expect((await store.chainLinks(chain, 3, 10)).map((l) => l.seq)).toEqual([4, 5]);
    expect((await store.chainLinks(chain, 1, 2)).map((l) => l.seq)).toEqual([2, 3]);
    expect((await store.chainLinksBefore(chain, undefined, 2)).map((l) => l.seq)).toEqual([5, 4]);
    expect((await store.chainLinksBefore(chain, 4, 10)).map((l) => l.seq)).toEqual([3, 2, 1]);
    expect(await store.chainLinksBefore(chain, 1, 10)).toEqual([]);
    // The log is not the resource store: no version, no search index, no change of the resource markers.
    expect(await store.readCurrent('AuditEvent', 'a2')).toBeUndefined();
    expect((await store.history({ count: 10 })).total).toBe(0);
  });

  test('several writes to one chain in one call chain in order; other chains are independent', async () => {
    const ws = [chained('Patient/x', 'x1'), chained('Patient/y', 'y1'), chained('Patient/x', 'x2'), chained('Patient/x', 'x3')];
    await store.appendChained(ws);
    const x = await allLinks(store, 'Patient/x');
    expect(chainProblem(x)).toBeUndefined();
    expect(x.map(idOf)).toEqual(['x1', 'x2', 'x3']);
    expect((await store.chainLinks('Patient/y', 0, 10)).map((l) => [l.seq, idOf(l)])).toEqual([[1, 'y1']]);
    expect(ws[0].calls.at(-1)).toBeUndefined();
    expect(ws[1].calls.at(-1)).toBeUndefined();
    expect(ws[2].calls.at(-1)).toEqual({ seq: 1, hash: ws[0].sealed?.hash });
    expect(await store.chainHead('Patient/x')).toEqual({ seq: 3, hash: ws[3].sealed?.hash });
  });

  test('50 concurrent appends to one chain, with others to other chains: no fork, no gap, each seal over the true previous head', async () => {
    const hot = Array.from({ length: 50 }, (_, i) => chained('Patient/hot', `h${i}`));
    const others = Array.from({ length: 30 }, (_, i) => chained(`Patient/o${i % 3}`, `o${i}`));
    // One call per write (as concurrent requests do), plus one call with several.
    await Promise.all([
      ...hot.slice(0, 45).map((w) => store.appendChained([w])),
      store.appendChained(hot.slice(45)),
      ...others.map((w) => store.appendChained([w])),
    ]);
    const links = await allLinks(store, 'Patient/hot');
    expect(chainProblem(links)).toBeUndefined();
    expect(links.length).toBe(50);
    expect(links.map(idOf).sort()).toEqual(hot.map((w) => w.id).sort());
    // The hash kept for each link is the one its last seal returned.
    for (const l of links) {
      expect(l.hash).toBe(hot.find((w) => w.id === idOf(l))?.sealed?.hash);
    }
    expect(await store.chainHead('Patient/hot')).toEqual({ seq: 50, hash: links[49].hash });
    for (const c of ['Patient/o0', 'Patient/o1', 'Patient/o2']) {
      const l = await allLinks(store, c);
      expect(chainProblem(l)).toBeUndefined();
      expect(l.length).toBe(10);
    }
  });

  test('a write whose seal fails fails alone: the chain and the other writes stand', async () => {
    await store.appendChained([chained('Patient/f', 'first')]);
    const head = await store.chainHead('Patient/f');
    const bad = chained('Patient/f', 'boom');
    bad.seal = () => {
      throw new Error('seal failed');
    };
    const good = chained('Patient/f', 'fine');
    const err = await store.appendChained([bad, good]).catch((e: unknown) => e);
    expect((err as Error).message).toBe('seal failed');
    const links = await allLinks(store, 'Patient/f');
    expect(chainProblem(links)).toBeUndefined();
    expect(links.map(idOf)).toEqual(['first', 'fine']);
    expect(good.calls.at(-1)).toEqual(head);
  });

  test('a record changed directly in the database is returned changed, and no longer matches its hash', async () => {
    const ws = [chained('Patient/t', 't1'), chained('Patient/t', 't2'), chained('Patient/t', 't3')];
    for (const w of ws) await store.appendChained([w]);
    expect(chainProblem(await allLinks(store, 'Patient/t'))).toBeUndefined();
    const altered = recordJson('t2', { seq: 1, hash: ws[0].sealed?.hash as string }, { outcome: '8' });
    if (fixture.name === 'sqlite') {
      (store as SqliteStore).db.prepare("UPDATE chain_entry SET json = ? WHERE chain = 'Patient/t' AND seq = 2").run(altered);
    } else {
      const client = new MongoClient(process.env.MONGODB_URL as string);
      await client.connect();
      try {
        const db = client.db((store as MongoStore).options.dbName);
        const r = await db.collection<{ _id: string }>('chain_links').updateOne({ _id: 'Patient/t#2' }, { $set: { json: altered } });
        expect(r.modifiedCount).toBe(1);
      } finally {
        await client.close();
      }
    }
    const links = await allLinks(store, 'Patient/t');
    expect(links.map(idOf)).toEqual(['t1', 't2', 't3']);
    expect(JSON.parse(links[1].json).outcome).toBe('8');
    expect(links[1].hash).toBe(ws[1].sealed?.hash);
    expect(chainProblem(links)).toBe('seq 2: hash does not match the stored record');
    expect(linkHash({ seq: 1, hash: links[0].hash }, ws[1].sealed?.json as string)).toBe(links[1].hash);
  });

  test('purgeChain removes a chain and its links; the next append starts it again at seq 1', async () => {
    for (const id of ['g1', 'g2', 'g3']) await store.appendChained([chained('Patient/g', id)]);
    await store.appendChained([chained('Patient/other', 'o1')]);
    await store.purgeChain('Patient/g');
    expect(await store.chainLinks('Patient/g', 0, 10)).toEqual([]);
    expect(await store.chainHead('Patient/g')).toBeUndefined();
    expect(await store.listChains(undefined, 10)).toEqual(['Patient/other']);
    const w = chained('Patient/g', 'g4');
    await store.appendChained([w]);
    expect(w.calls.at(-1)).toBeUndefined();
    expect((await store.chainHead('Patient/g'))?.seq).toBe(1);
  });

  test('listChains pages through the chains in ascending order', async () => {
    const chains = ['system', 'Patient/10', 'Patient/9', 'Patient/1', 'Patient/100', 'Patient/a', 'Patient/B', 'Patient/2'];
    await store.appendChained(chains.map((c, i) => chained(c, `l${i}`)));
    await store.appendChained([chained('Patient/9', 'again')]);
    const sorted = [...chains].sort();
    expect(await store.listChains(undefined, 100)).toEqual(sorted);
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listChains(after, 3);
      paged.push(...page);
      if (page.length < 3) break;
      after = page[page.length - 1];
    }
    expect(paged).toEqual(sorted);
    expect(await store.listChains('Patient/2', 2)).toEqual(sorted.slice(sorted.indexOf('Patient/2') + 1, sorted.indexOf('Patient/2') + 3));
    expect(await store.listChains('system', 10)).toEqual([]);
  });
});

describe.each(STORES)('hash-chained appends from several writers on one database ($name)', (fixture) => {
  test('two store instances appending to one chain concurrently: one chain, no fork, no gap', async () => {
    const { stores, dispose } = await twoStores(fixture);
    try {
      const [a, b] = stores;
      const wa = Array.from({ length: 30 }, (_, i) => chained('Patient/shared', `a${i}`));
      const wb = Array.from({ length: 30 }, (_, i) => chained('Patient/shared', `b${i}`));
      // Interleaved rounds, so that each instance appends over heads the other one wrote.
      // A pause between rounds lets the other instance append in between, whatever their speeds.
      const run = async (s: ResourceStore, ws: TestChainedWrite[]) => {
        for (let i = 0; i < ws.length; i += 3) {
          await Promise.all(ws.slice(i, i + 3).map((w) => s.appendChained([w])));
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await Promise.all([run(a, wa), run(b, wb)]);
      for (const s of stores) {
        const links = await allLinks(s, 'Patient/shared');
        expect(chainProblem(links)).toBeUndefined();
        expect(links.map(idOf).sort()).toEqual([...wa, ...wb].map((w) => w.id).sort());
        expect(await s.chainHead('Patient/shared')).toEqual({ seq: 60, hash: links[59].hash });
      }
      // Both instances wrote links over the other's heads.
      const sealedOver = (ws: TestChainedWrite[], other: TestChainedWrite[]) =>
        ws.some((w) => other.some((o) => o.sealed?.hash === w.calls.at(-1)?.hash));
      expect(sealedOver(wa, wb) && sealedOver(wb, wa)).toBe(true);
    } finally {
      await dispose();
    }
  });

  test('a child process and this one appending to one chain: one chain, no fork, no gap', async () => {
    const { stores, dispose, child } = await twoStores(fixture);
    try {
      const [a] = stores;
      const proc = childAppender({ ...child, CHAIN: 'Patient/proc', PREFIX: 'c', N: '40', DELAY_MS: '10' });
      await proc.ready;
      proc.go();
      // Start once the child has appended, so that the two writers overlap whatever their speeds.
      for (let i = 0; i < 2000 && ((await a.chainHead('Patient/proc'))?.seq ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const mine = 40;
      for (let i = 0; i < mine; i += 2) {
        await Promise.all([chained('Patient/proc', `m${i}`), chained('Patient/proc', `m${i + 1}`)].map((w) => a.appendChained([w])));
        await new Promise((r) => setTimeout(r, 10));
      }
      await proc.exit;
      const links = await allLinks(a, 'Patient/proc');
      expect(chainProblem(links)).toBeUndefined();
      expect(links.length).toBe(40 + mine);
      const ids = links.map(idOf);
      expect(ids.filter((id) => id.startsWith('c')).length).toBe(40);
      expect(new Set(ids).size).toBe(40 + mine);
      // The writers really interleaved: each sealed over heads the other wrote.
      const writer = new Map(links.map((l) => [l.hash, idOf(l)[0]]));
      const prevWriter = links.slice(1).map((l, i) => `${writer.get(links[i].hash)}>${idOf(l)[0]}`);
      expect(prevWriter).toEqual(expect.arrayContaining(['c>m', 'm>c']));
    } finally {
      await dispose();
    }
  }, 120_000);
});

describe('hash chains on a SQLite file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-chain-file-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('acknowledged links are in the file when it is opened again', async () => {
    const store = new SqliteStore({ dataDir: dir });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendChained([chained('Patient/d', `d${i}`)])));
    await store.close();
    const reopened = new SqliteStore({ dataDir: dir });
    const links = await allLinks(reopened, 'Patient/d');
    expect(chainProblem(links)).toBeUndefined();
    expect(links.length).toBe(20);
    await reopened.close();
  });

  test('a database created before the chain tables existed opens and gets them', async () => {
    const old = new SqliteStore({ dataDir: dir });
    await old.write({
      type: 'Patient', id: 'p', versionId: 1, expectedVersion: 0, lastUpdated: new Date().toISOString(),
      method: 'POST', deleted: false, json: '{"resourceType":"Patient","id":"p"}', index: [],
    });
    old.db.exec('DROP TABLE chain_head; DROP TABLE chain_entry;');
    await old.close();
    const store = new SqliteStore({ dataDir: dir });
    expect((await store.readCurrent('Patient', 'p'))?.versionId).toBe(1);
    await store.appendChained([chained('Patient/p', 'e1')]);
    expect((await store.chainHead('Patient/p'))?.seq).toBe(1);
    await store.close();
  });
});
