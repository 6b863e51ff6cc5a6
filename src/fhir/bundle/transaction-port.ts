import type { Parameters } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { GroupConflict, type ResourceStore, type VersionRecord, type VersionWrite } from '../../store/port';
import { newId } from '../ids';
import { Interaction } from '../interactions';
import { FhirError } from '../outcomes';
import type { StoredResource } from '../versioning';
import type { DeleteResult, WriteOptions, WriteResult } from '../writer';
import { groupConflictOutcome } from '../write-conflicts';
import { nameEntry } from './entries';
import type { TransactionOutcome, TransactionPort } from './transaction';
import { interactionOf, type ResolvedEntry } from './run-entry';

type Stage = (write: VersionWrite) => void;

/**
 * FhirService's private paths, as a transaction uses them: the same checks
 * as the single interactions (validation, write hooks, conditional matching
 * as the caller sees), without `perform` (no second decision or audit), and
 * with the writes handed to `stage` instead of the store.
 */
export interface TransactionPaths {
  /** SMART scopes of the caller for one entry (403 when they do not grant it). */
  scopes(interaction: Interaction, type: string): void;
  create(type: string, body: unknown, opts: { id?: string }, stage: Stage): Promise<WriteResult>;
  update(type: string, id: string, body: unknown, opts: WriteOptions, stage: Stage): Promise<WriteResult>;
  patch(type: string, id: string, ops: Operation[], opts: WriteOptions, stage: Stage): Promise<WriteResult>;
  delete(type: string, id: string, opts: WriteOptions, stage: Stage): Promise<DeleteResult>;
  read(type: string, id: string): Promise<StoredResource>;
  vread(type: string, id: string, vid: string): Promise<StoredResource>;
  search(type: string, params: [string, string][]): Promise<string>;
  lookup(params: Parameters): Promise<Parameters>;
  matchOne(type: string, criteria: [string, string][], what: string, exclude: ReadonlySet<string>): Promise<VersionRecord | undefined>;
  ifNoneExist(type: string, criteria: [string, string][], exclude: ReadonlySet<string>): Promise<WriteResult | undefined>;
}

/** One entry of a transaction as its AuditEvent will describe it. */
export interface EntryAudit {
  index: number;
  interaction: Interaction;
  type: string;
  id?: string;
  status: number;
  /** The resource as written (create, update, patch), JSON. */
  written?: string;
}

/**
 * The TransactionPort FhirService hands to runTransaction: scopes checked
 * per entry, prepared versions collected in order (remembering their entry),
 * and one commit. The store's GroupConflict becomes the failing entry's
 * error: 412 when it carried ifMatch, 409 otherwise.
 */
export class TransactionPortImpl implements TransactionPort {
  private readonly writes: VersionWrite[] = [];
  private readonly entryOfWrite: number[] = [];
  private readonly ifMatchOf = new Map<number, boolean>();
  private current = -1;
  private entries: readonly ResolvedEntry[] = [];
  /**
   * True once the commit lost a race (another request wrote one of these
   * resources, or took a unique key, since they were read): nothing was
   * stored, and running the whole transaction again sees the winner's
   * writes. An entry with If-Match then fails its precondition (412) on
   * that run, one without it applies to the new current version.
   */
  lostRace = false;
  private readonly stage: Stage = (w) => {
    this.writes.push(w);
    this.entryOfWrite.push(this.current);
  };

  constructor(
    private readonly paths: TransactionPaths,
    private readonly store: ResourceStore,
  ) {}

  parsed(entries: readonly ResolvedEntry[]): void {
    this.entries = entries;
  }

  beginEntry(index: number): void {
    this.current = index;
  }

  newId(): string {
    return newId();
  }

  matchOne(type: string, criteria: [string, string][], what: string, exclude: ReadonlySet<string>): Promise<VersionRecord | undefined> {
    // A conditional match is a search the caller makes.
    this.paths.scopes(Interaction.search, type);
    return this.paths.matchOne(type, criteria, what, exclude);
  }

  ifNoneExist(type: string, criteria: [string, string][], exclude: ReadonlySet<string>): Promise<WriteResult | undefined> {
    this.paths.scopes(Interaction.create, type);
    return this.paths.ifNoneExist(type, criteria, exclude);
  }

  async create(type: string, body: unknown, opts: { ifNoneExist?: [string, string][]; id?: string }): Promise<WriteResult> {
    this.paths.scopes(Interaction.create, type);
    return this.paths.create(type, body, { id: opts.id }, this.stage);
  }

  async update(type: string, id: string, body: unknown, opts: WriteOptions): Promise<WriteResult> {
    this.paths.scopes(Interaction.update, type);
    this.ifMatchOf.set(this.current, opts.ifMatch !== undefined);
    return this.paths.update(type, id, body, opts, this.stage);
  }

  conditionalUpdate(): Promise<WriteResult> {
    // runTransaction resolves every conditional update to an id first.
    return Promise.reject(new Error('transaction: conditional update left unresolved'));
  }

  async patch(type: string, id: string, ops: Operation[], opts: WriteOptions): Promise<WriteResult> {
    this.paths.scopes(Interaction.patch, type);
    this.ifMatchOf.set(this.current, opts.ifMatch !== undefined);
    return this.paths.patch(type, id, ops, opts, this.stage);
  }

  conditionalPatch(): Promise<WriteResult> {
    return Promise.reject(new Error('transaction: conditional patch left unresolved'));
  }

  async delete(type: string, id: string, opts: WriteOptions): Promise<DeleteResult> {
    this.paths.scopes(Interaction.delete, type);
    this.ifMatchOf.set(this.current, opts.ifMatch !== undefined);
    return this.paths.delete(type, id, opts, this.stage);
  }

  conditionalDelete(): Promise<DeleteResult> {
    return Promise.reject(new Error('transaction: conditional delete left unresolved'));
  }

  async read(type: string, id: string): Promise<StoredResource> {
    this.paths.scopes(Interaction.read, type);
    return this.paths.read(type, id);
  }

  async vread(type: string, id: string, vid: string): Promise<StoredResource> {
    this.paths.scopes(Interaction.vread, type);
    return this.paths.vread(type, id, vid);
  }

  async search(type: string, params: [string, string][]): Promise<string> {
    this.paths.scopes(Interaction.search, type);
    return this.paths.search(type, params);
  }

  async lookup(params: Parameters): Promise<Parameters> {
    this.paths.scopes(Interaction.operation, 'CodeSystem');
    return this.paths.lookup(params);
  }

  /** The one commit: every prepared version, all or nothing, durable before it resolves. */
  async commit(): Promise<void> {
    try {
      await this.store.writeAll(this.writes);
    } catch (err) {
      if (!(err instanceof GroupConflict)) throw err;
      const entry = this.entryOfWrite[err.index] ?? 0;
      this.lostRace = true;
      throw nameEntry(groupConflictOutcome(err.conflict, !!this.ifMatchOf.get(entry)), entry);
    }
  }

  /**
   * The entries as their AuditEvents will record them (see the AUDIT HOOK in
   * FhirService.transaction): after success every entry with its result;
   * after a failure the failing entry (named by the error) with the error's
   * status (nothing was stored; the other entries did not take effect).
   */
  audited(done: TransactionOutcome | undefined, failure?: unknown): EntryAudit[] {
    if (done) {
      return done.entries.map((e, i) => {
        const r = done.results[i];
        const id = e.existing?.resource.id ?? e.assignedId ?? e.id;
        return { index: e.index, interaction: interactionOf(e), type: e.type, id, status: r?.status ?? 0, written: r?.written };
      });
    }
    if (!(failure instanceof FhirError)) return [];
    const m = /^Bundle\.entry\[(\d+)\]$/.exec(failure.outcome.issue?.[0]?.expression?.[0] ?? '');
    const e = m ? this.entries[Number(m[1])] : undefined;
    return e ? [{ index: e.index, interaction: interactionOf(e), type: e.type, id: e.existing?.resource.id ?? e.assignedId ?? e.id, status: failure.status }] : [];
  }
}
