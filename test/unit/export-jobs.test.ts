import fs from 'node:fs';
import path from 'node:path';
import type { VersionRecord } from '../../src/store/port';
import { decideExport } from '../../src/access/export';
import { ExportJobs, ownerKey } from '../../src/fhir/export/jobs';
import type { ExportSource } from '../../src/fhir/export/sources';
import { principal } from '../access/helpers';
import { exportSettings } from '../http/export-support';

const record = (type: string, id: string): VersionRecord => ({
  type,
  id,
  versionId: 1,
  lastUpdated: '2024-01-01T00:00:00.000Z',
  method: 'POST',
  deleted: false,
  json: JSON.stringify({ resourceType: type, id }),
});

/** A source of `pages` pages of Observations, each page held until `gate` resolves (a long export). */
function slowSource(pages: number, gate: () => Promise<void>): ExportSource & { read: number } {
  const src = {
    read: 0,
    types: ['Observation'],
    referencedTypes: [],
    patients: ['p1'],
    referenced: async () => [],
    async *pages(): AsyncGenerator<VersionRecord[]> {
      for (let i = 0; i < pages; i++) {
        await gate();
        src.read++;
        yield [record('Observation', `o${i}`)];
      }
    },
  };
  return src;
}

describe('export jobs', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const settings = (ttl = 3600, maxRunning = 2) => {
    const s = exportSettings(ttl, maxRunning);
    dirs.push(s.dir);
    return s;
  };

  test('a job interrupted by a restart is reported as failed, never as running forever', async () => {
    const s = settings();
    const first = new ExportJobs(s);
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const id = first.start('me', 'url', slowSource(3, () => blocked));
    expect(first.find('me', id)?.state).toBe('running');
    // "Restart": a new manager on the same directory, in a process that does not run the job.
    const second = new ExportJobs(s);
    const job = second.find('me', id);
    expect(job?.state).toBe('failed');
    expect(job?.error).toMatch(/interrupted/);
    release();
    await first.close();
    await second.close();
  });

  test('cancelling a running job stops it at its next page and removes its directory', async () => {
    const s = settings();
    const jobs = new ExportJobs(s);
    let pages = 0;
    const src = slowSource(1000, async () => {
      pages++;
      await new Promise((r) => setTimeout(r, 5));
    });
    const id = jobs.start('me', 'url', src);
    await new Promise((r) => setTimeout(r, 50));
    const job = jobs.find('me', id);
    expect(job?.state).toBe('running');
    expect(jobs.progress(id)).toMatch(/resources written/);
    await jobs.cancel(job as NonNullable<typeof job>);
    expect(src.read).toBeLessThan(1000);
    expect(fs.existsSync(path.join(s.dir, id))).toBe(false);
    expect(jobs.find('me', id)).toBeUndefined();
    const after = pages;
    await new Promise((r) => setTimeout(r, 30));
    expect(pages).toBe(after);
    await jobs.close();
  });

  test('at most EXPORT_MAX_RUNNING jobs at once (429), and another owner sees nothing', async () => {
    const jobs = new ExportJobs(settings(3600, 1));
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const id = jobs.start('me', 'url', slowSource(1, () => blocked));
    expect(() => jobs.start('me', 'url', slowSource(1, () => blocked))).toThrow(expect.objectContaining({ status: 429 }));
    expect(jobs.find('someone else', id)).toBeUndefined();
    expect(jobs.find('me', '../etc')).toBeUndefined();
    release();
    await jobs.close();
  });

  test('owners are role, subject and patient', () => {
    expect(ownerKey(principal({ role: 'patient', sub: 'a', patient: 'p1' }))).not.toBe(ownerKey(principal({ role: 'patient', sub: 'a', patient: 'p2' })));
    expect(ownerKey(principal({ role: 'patient', sub: 'a', patient: 'p1' }))).not.toBe(ownerKey(principal({ role: 'representative', sub: 'a', patient: 'p1' })));
  });
});

describe('the bulk export rule (DMP-RULES.md § 5)', () => {
  const allow = { effect: 'allow' };
  test('own DMP for the patient and the representatives, nobody else', () => {
    expect(decideExport(principal({ role: 'patient', patient: 'p1' }), { level: 'patient', patientId: 'p1' })).toEqual(allow);
    expect(decideExport(principal({ role: 'representative', patient: 'p1' }), { level: 'patient', patientId: 'p1' })).toEqual(allow);
    for (const p of [principal({ role: 'patient', patient: 'p2' }), principal({ role: 'professional', rpps: '1', profession: '10' }), principal({ role: 'admin' }), principal({ role: 'feeder' })]) {
      expect(decideExport(p, { level: 'patient', patientId: 'p1' }).effect).toBe('deny');
    }
  });
  test('system level: the administrator, for directory and conformance types only', () => {
    const admin = principal({ role: 'admin' });
    expect(decideExport(admin, { level: 'system' })).toEqual(allow);
    expect(decideExport(admin, { level: 'system', types: ['Practitioner', 'ValueSet'] })).toEqual(allow);
    expect(decideExport(admin, { level: 'system', types: ['Practitioner', 'Observation'] }).effect).toBe('deny');
    expect(decideExport(principal({ role: 'patient', patient: 'p1' }), { level: 'system', types: ['Practitioner'] }).effect).toBe('deny');
  });
  test('Patient/$export and Group/$export: refused for everyone', () => {
    for (const role of ['admin', 'patient', 'professional'] as const) {
      for (const level of ['all-patients', 'group'] as const) {
        expect(decideExport(principal({ role, patient: 'p1' }), { level, types: ['Practitioner'] }).effect).toBe('deny');
      }
    }
  });
});
