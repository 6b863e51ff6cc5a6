import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FhirError, issue, outcome } from '../outcomes';
import { writeExport, type ExportOutput, type ExportProgress } from './ndjson-writer';
import type { ExportSource } from './sources';

/** Export settings (EXPORT_TTL_SECONDS, EXPORT_MAX_RUNNING; files under DATA_DIR/exports). */
export interface ExportSettings {
  dir: string;
  ttlSeconds: number;
  maxRunning: number;
}

/** A job as kept on disk (`job.json`): enough for its status URL to answer, in this process or another on the same DATA_DIR. */
export interface ExportJob {
  id: string;
  /** Who started it (role, sub, patient): only they see it. */
  owner: string;
  request: string;
  transactionTime: string;
  state: 'running' | 'done' | 'failed';
  patients: readonly string[];
  outputs: ExportOutput[];
  error?: string;
  /** Epoch ms after which the job and its files are removed. */
  expiresAt: number;
  host: string;
  pid: number;
}

const JOB_ID = /^[0-9a-f]{32}$/;
const FILE_NAME = /^[A-Z][A-Za-z]+\.ndjson$/;

/** Whose a job is: the rule is access/export.ts's. */
export { exportJobOwner as ownerKey } from '../../access/export';

/**
 * Bulk Data export jobs: started in the background, written to
 * `dir/{id}/` as NDJSON files (ndjson-writer.ts), their state in
 * `dir/{id}/job.json`. A job whose process died (restart, crash) is
 * reported as failed, by the next start-up or the next status request,
 * never as running forever. Jobs and files are removed when they expire
 * (`ttlSeconds` after the kick-off) or are cancelled.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
 */
export class ExportJobs {
  private readonly running = new Map<string, { progress: ExportProgress; aborted: boolean; done: Promise<void> }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly settings: ExportSettings,
    private readonly now: () => number = Date.now,
  ) {
    fs.mkdirSync(settings.dir, { recursive: true, mode: 0o700 });
    this.sweep();
    this.timer = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, (settings.ttlSeconds * 1000) / 2)));
    this.timer.unref();
  }

  /** Starts a job for `owner` (429 when too many are running); returns its id. */
  start(owner: string, request: string, source: ExportSource): string {
    if (this.running.size >= this.settings.maxRunning) {
      throw new FhirError(429, outcome(issue('throttled', `At most ${this.settings.maxRunning} exports run at once: retry later`)), { 'Retry-After': '10' });
    }
    const id = crypto.randomBytes(16).toString('hex');
    const dir = path.join(this.settings.dir, id);
    fs.mkdirSync(dir, { mode: 0o700 });
    const job: ExportJob = {
      id,
      owner,
      request,
      transactionTime: new Date(this.now()).toISOString(),
      state: 'running',
      patients: source.patients,
      outputs: [],
      expiresAt: this.now() + this.settings.ttlSeconds * 1000,
      host: os.hostname(),
      pid: process.pid,
    };
    this.save(job);
    const entry = { progress: { typesDone: 0, typesTotal: source.types.length, resources: 0 }, aborted: false, done: Promise.resolve() };
    entry.done = writeExport(source, dir, entry.progress, () => entry.aborted).then(
      (outputs) => this.finish(job, entry.aborted ? undefined : { state: 'done', outputs }),
      () => this.finish(job, entry.aborted ? undefined : { state: 'failed', outputs: [], error: 'The export failed while reading or writing its data' }),
    );
    this.running.set(id, entry);
    return id;
  }

  /** The caller's job, undefined when unknown, expired or someone else's (the same answer for all three). */
  find(owner: string, id: string): ExportJob | undefined {
    if (!JOB_ID.test(id)) return undefined;
    const job = this.load(id);
    if (!job || job.owner !== owner) return undefined;
    if (job.expiresAt <= this.now()) {
      this.remove(id);
      return undefined;
    }
    if (job.state === 'running' && !this.running.has(id) && !processAlive(job)) {
      return this.markInterrupted(job);
    }
    return job;
  }

  /** `X-Progress` of a running job of this process. */
  progress(id: string): string {
    const p = this.running.get(id)?.progress;
    return p ? `${p.resources} resources written, ${p.typesDone} of ${p.typesTotal} types` : 'in progress';
  }

  /** The path of one output file of a finished job, if it is one of its files. */
  filePath(job: ExportJob, name: string): string | undefined {
    if (job.state !== 'done' || !FILE_NAME.test(name) || !job.outputs.some((o) => o.file === name)) return undefined;
    return path.join(this.settings.dir, job.id, name);
  }

  /** Cancels a job (a running one stops at its next page) and removes its files. */
  async cancel(job: ExportJob): Promise<void> {
    const entry = this.running.get(job.id);
    if (entry) {
      entry.aborted = true;
      await entry.done;
    }
    this.remove(job.id);
  }

  /** Stops the sweep and every running job (their status then says failed, after a restart). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const entry of this.running.values()) entry.aborted = true;
    await Promise.all([...this.running.values()].map((e) => e.done));
  }

  private finish(job: ExportJob, result: Pick<ExportJob, 'state' | 'outputs' | 'error'> | undefined): void {
    this.running.delete(job.id);
    // Cancelled: cancel() removes the directory.
    if (!result || !fs.existsSync(path.join(this.settings.dir, job.id))) return;
    this.save({ ...job, ...result });
  }

  /** Removes expired jobs; marks the running jobs of dead processes as failed. */
  private sweep(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.settings.dir);
    } catch {
      return;
    }
    for (const id of names.filter((n) => JOB_ID.test(n))) {
      const job = this.load(id);
      if (!job || job.expiresAt <= this.now()) {
        if (!this.running.has(id)) this.remove(id);
      } else if (job.state === 'running' && !this.running.has(id) && !processAlive(job)) {
        this.markInterrupted(job);
      }
    }
  }

  private markInterrupted(job: ExportJob): ExportJob {
    const failed: ExportJob = { ...job, state: 'failed', outputs: [], error: 'The export was interrupted (the server restarted): start a new one' };
    this.save(failed);
    return failed;
  }

  private load(id: string): ExportJob | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.settings.dir, id, 'job.json'), 'utf8')) as ExportJob;
    } catch {
      return undefined;
    }
  }

  /** Written to a temporary name then renamed, so a reader never sees half a file. */
  private save(job: ExportJob): void {
    const file = path.join(this.settings.dir, job.id, 'job.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(job), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }

  private remove(id: string): void {
    fs.rmSync(path.join(this.settings.dir, id), { recursive: true, force: true });
  }
}

/** Whether the process that runs a job is still alive (same host only; another host's job is trusted to its process). */
function processAlive(job: ExportJob): boolean {
  if (job.host !== os.hostname()) return true;
  if (job.pid === process.pid) return false;
  try {
    process.kill(job.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
