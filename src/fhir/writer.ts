import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { VersionConflict, type ResourceStore, type VersionRecord, type VersionWrite, type WriteMethod } from '../store/port';
import { parseJson, stringifyJson } from './json/lossless';
import { KeyedQueue } from './keyed-queue';
import { errors } from './outcomes';
import { applyJsonPatch } from './patch';
import type { IndexEntry } from './search/index-entry';
import { nextLastUpdated, stampMeta, type StoredResource } from './versioning';

export interface WriterDeps {
  store: ResourceStore;
  validator: { validate(resource: Resource): OperationOutcomeIssue[] };
  indexer: { extract(resource: Resource): IndexEntry[] };
  /** Keys no other live resource may hold (e.g. a Patient's INS); see VersionWrite.uniqueKeys. */
  uniqueKeys?: (resource: Resource) => string[] | undefined;
  now: () => number;
}

export interface WriteOptions {
  /** Version the client expects to be current (`If-Match`). */
  ifMatch?: number;
}

/**
 * What FhirService adds to a write: the check of the caller's right, run on
 * the current version and the resource about to be stored (after patching,
 * before validation, so a refused caller learns nothing from validation
 * errors), and the creator to record on a new resource.
 */
export interface WriteHooks {
  check?: (before: Resource | undefined, after: Resource | undefined) => Promise<void>;
  /** Sets the server-owned creator mark on a resource being created (kept on later versions). */
  markCreator?: (resource: Resource, previous: Resource | undefined) => Resource;
  /**
   * A transaction Bundle's collector: when set, the version, fully prepared
   * (checked, validated, indexed, with its compare-and-set expectation), is
   * handed to it instead of being written; FhirService commits the
   * collected versions together with ResourceStore.writeAll.
   */
  stage?: (write: VersionWrite) => void;
  /**
   * Puts content held outside the JSON (a Binary's bytes) in the store once
   * the version is checked and valid, and returns the resource to store
   * (with a pointer instead of the bytes); it runs before the version is
   * written, so no version points at missing content.
   */
  content?: {
    prepare(resource: Resource, previous: Resource | undefined): Promise<Resource>;
    /** Called when the write fails for good: the content it put is pointed at by no version. */
    discard(): Promise<void>;
  };
}

export interface WriteResult {
  resource: StoredResource;
  /** True when this write created the resource (201), false for an update (200). */
  created: boolean;
}

export interface DeleteResult {
  /** The tombstone's version, when a delete happened now or earlier. */
  versionId?: number;
  /** False when there was nothing to delete (already deleted, or no match). */
  deleted: boolean;
}

/** Retries of a write without If-Match that lost a race to another process: the client asked for "last write wins". */
const MAX_RETRIES = 5;

/**
 * The write pipeline of FhirService (which constructs it and is its only
 * user): validate, stamp meta, extract index entries, serialize once, and
 * append the version with compare-and-set. Writes to one resource are queued
 * in-process; a race lost to another process is retried, or is a 412 when the
 * client sent If-Match. No access or audit logic lives here.
 * @see https://hl7.org/fhir/R4/http.html#concurrency
 */
export class ResourceWriter {
  private readonly queue = new KeyedQueue();

  constructor(private readonly deps: WriterDeps) {}

  /** A new resource with a server-assigned id. */
  async create(type: string, id: string, resource: Resource, hooks: WriteHooks = {}): Promise<StoredResource> {
    return discardOnFailure(hooks, () => this.append(type, id, resource, 'POST', undefined, hooks));
  }

  /** Update, or create with the client's id when absent or deleted. */
  update(type: string, id: string, resource: Resource, opts: WriteOptions, hooks: WriteHooks = {}): Promise<WriteResult> {
    return this.mutate(type, id, opts, async (current) => {
      const created = !current || current.deleted;
      if (hooks.check && !created) {
        await hooks.check(liveResource(current), undefined);
      }
      checkIfMatch(type, id, current, opts);
      return { resource: await this.append(type, id, resource, 'PUT', current, hooks), created };
    }, hooks);
  }

  patch(type: string, id: string, ops: Operation[], opts: WriteOptions, hooks: WriteHooks = {}): Promise<WriteResult> {
    return this.mutate(type, id, opts, async (current) => {
      const live = requireLive(type, id, current);
      if (hooks.check) {
        await hooks.check(liveResource(live), undefined);
      }
      checkIfMatch(type, id, live, opts);
      const patched = applyJsonPatch(parseJson(live.json as string) as Resource, ops);
      return { resource: await this.append(type, id, patched, 'PATCH', live, hooks), created: false };
    }, hooks);
  }

  /** A new version computed from the current live one (server-side changes such as `$close`). */
  async replace(type: string, id: string, change: (current: Resource) => Resource, hooks: WriteHooks = {}): Promise<StoredResource> {
    return this.mutate(type, id, {}, async (current) => {
      const live = requireLive(type, id, current);
      return this.append(type, id, change(parseJson(live.json as string) as Resource), 'PUT', live, hooks);
    }, hooks);
  }

  /** Appends a tombstone; deleting a deleted resource changes nothing. */
  delete(type: string, id: string, opts: WriteOptions, hooks: WriteHooks = {}): Promise<DeleteResult> {
    return this.mutate(type, id, opts, async (current) => {
      if (!current) {
        throw errors.notFound(`Resource ${type}/${id} is not known`);
      }
      if (hooks.check && !current.deleted) {
        await hooks.check(liveResource(current), undefined);
      }
      checkIfMatch(type, id, current, opts);
      if (current.deleted) {
        return { versionId: current.versionId, deleted: false };
      }
      const versionId = current.versionId + 1;
      await this.put(hooks, {
        type,
        id,
        versionId,
        expectedVersion: current.versionId,
        lastUpdated: nextLastUpdated(current.lastUpdated, this.deps.now()),
        method: 'DELETE',
        deleted: true,
        json: null,
        index: [],
      });
      return { versionId, deleted: true };
    }, hooks);
  }

  /** Writes the version now, or hands it to the transaction collecting it. */
  private async put(hooks: WriteHooks, write: VersionWrite): Promise<void> {
    if (hooks.stage) {
      hooks.stage(write);
      return;
    }
    await this.deps.store.write(write);
  }

  /** Runs `step` on the current version, queued per resource, retrying lost races as described above. */
  private mutate<T>(type: string, id: string, opts: WriteOptions, step: (current: VersionRecord | undefined) => Promise<T>, hooks: WriteHooks): Promise<T> {
    return this.queue.run(`${type}/${id}`, () => discardOnFailure(hooks, async () => {
      for (let attempt = 0; ; attempt++) {
        const current = await this.deps.store.readCurrent(type, id);
        try {
          return await step(current);
        } catch (err) {
          if (!(err instanceof VersionConflict)) {
            throw err;
          }
          if (opts.ifMatch !== undefined) {
            throw errors.preconditionFailed(`If-Match: ${type}/${id} was changed by another request`);
          }
          if (attempt >= MAX_RETRIES) {
            throw errors.conflict(`${type}/${id} is being changed by other requests; try again`);
          }
        }
      }
    }));
  }

  /**
   * Validates, stamps, indexes and appends a new live version. Validation
   * failures are 400 with the validator's issues; nothing is stored then.
   */
  private async append(
    type: string,
    id: string,
    resource: Resource,
    method: WriteMethod,
    previous: VersionRecord | undefined,
    hooks: WriteHooks,
  ): Promise<StoredResource> {
    const versionId = (previous?.versionId ?? 0) + 1;
    const lastUpdated = nextLastUpdated(previous?.lastUpdated, this.deps.now());
    const before = liveResource(previous);
    let stamped = stampMeta(resource, id, versionId, lastUpdated);
    if (hooks.markCreator) {
      stamped = hooks.markCreator(stamped, before);
    }
    if (hooks.check) {
      await hooks.check(before, stamped);
    }
    const found = this.deps.validator.validate(stamped);
    const issues = found.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (issues.length > 0) {
      throw errors.invalid(issues);
    }
    const warnings = found.filter((i) => i.severity === 'warning');
    if (hooks.content) {
      stamped = await hooks.content.prepare(stamped, before);
    }
    const json = stringifyJson(stamped);
    await this.put(hooks, {
      type,
      id,
      versionId,
      expectedVersion: previous?.versionId ?? 0,
      lastUpdated,
      method,
      deleted: false,
      json,
      index: this.deps.indexer.extract(stamped),
      uniqueKeys: this.deps.uniqueKeys?.(stamped),
    });
    return { type, id, versionId, lastUpdated, json, ...(warnings.length > 0 ? { warnings } : {}) };
  }
}

/** Runs a write; if it fails, the content it put for a Binary is removed (no version points at it). */
async function discardOnFailure<T>(hooks: WriteHooks, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    await hooks.content?.discard();
    throw err;
  }
}

/** The resource of a live version, undefined for none or a tombstone. */
function liveResource(v: VersionRecord | undefined): Resource | undefined {
  return v && !v.deleted && v.json ? (JSON.parse(v.json) as Resource) : undefined;
}

/** The current version when it exists and is not deleted (404 / 410 otherwise). */
function requireLive(type: string, id: string, current: VersionRecord | undefined): VersionRecord {
  if (!current) {
    throw errors.notFound(`Resource ${type}/${id} is not known`);
  }
  if (current.deleted) {
    throw errors.gone(`Resource ${type}/${id} has been deleted`);
  }
  return current;
}

/** `If-Match`: the expected version must be the current, live one (412 otherwise). */
function checkIfMatch(type: string, id: string, current: VersionRecord | undefined, opts: WriteOptions): void {
  if (opts.ifMatch !== undefined && (!current || current.deleted || current.versionId !== opts.ifMatch)) {
    throw errors.preconditionFailed(`If-Match: version ${opts.ifMatch} is not the current version of ${type}/${id}`);
  }
}
