import type { Operation } from 'rfc6902';
import { GroupConflict, UniqueConflict, type VersionWrite } from '../../store/port';
import type { AuditTrace } from '../../audit/trace';
import type { ContentSession } from '../binary/content-session';
import { groupConflictOutcome, uniqueKeyTaken } from '../write-conflicts';
import type { RequestContext } from '../context';
import { newId } from '../ids';
import { errors, FhirError } from '../outcomes';
import { requireMatchingId, requireResource } from '../resource-body';
import { storedResource, type StoredResource } from '../versioning';
import type { DeleteResult, WriteOptions, WriteResult } from '../writer';
import type { AccessHistoryReads } from './access-history';
import type { ServiceDoor, Stage } from './door';

/** Written only by the server itself: the API refuses to change them (405). */
const READ_ONLY_TYPES = new Set(['AuditEvent']);
/** A replaced document's change (DMP-RULES.md § 3 rule 6). */
const SUPERSEDE: Operation[] = [{ op: 'replace', path: '/status', value: 'superseded' }];

/**
 * The REST interactions on one resource (read, vread, create, update, patch,
 * delete and their conditional forms), below the door: each takes the
 * interaction's trace and neither authorizes the caller nor audits, which
 * FhirService's `perform` (or a transaction, for its entries) does once.
 * A transaction passes `stage` (its versions are collected for one commit)
 * and `content` (one Binary content session for the whole Bundle).
 * @see https://hl7.org/fhir/R4/http.html
 */
export class RecordInteractions {
  constructor(
    private readonly door: ServiceDoor,
    private readonly auditEvents: AccessHistoryReads,
  ) {}

  /** @see https://hl7.org/fhir/R4/http.html#read */
  async read(ctx: RequestContext, trace: AuditTrace, type: string, id: string): Promise<StoredResource> {
    trace.level = 'instance';
    if (type === 'AuditEvent' && this.auditEvents.active) return this.auditEvents.read(ctx, trace, id);
    const current = await this.door.visibleCurrent(ctx, type, id, trace);
    if (current.deleted) {
      throw errors.gone(`Resource ${type}/${id} has been deleted`);
    }
    return storedResource(current);
  }

  /** @see https://hl7.org/fhir/R4/http.html#vread */
  async vread(ctx: RequestContext, trace: AuditTrace, type: string, id: string, versionId: string): Promise<StoredResource> {
    trace.level = 'instance';
    // An AuditEvent has one version: it is never changed.
    if (type === 'AuditEvent' && this.auditEvents.active && versionId === '1') return this.auditEvents.read(ctx, trace, id);
    if (type === 'AuditEvent' && this.auditEvents.active) throw errors.notFound(`Version ${versionId} of ${type}/${id} is not known`);
    const unknown = `Version ${versionId} of ${type}/${id} is not known`;
    const v = /^[1-9]\d{0,9}$/.test(versionId) ? await this.door.deps.store.readVersion(type, id, Number(versionId)) : undefined;
    if (!v) {
      trace.touchRef(type, id);
      throw errors.notFound(unknown);
    }
    // Visibility follows the resource as it is now (its current labels), as in search and history.
    await this.door.visibleCurrent(ctx, type, id, trace, unknown, v.versionId);
    if (v.deleted) {
      throw errors.gone(`Version ${versionId} of ${type}/${id} is a deletion`);
    }
    return storedResource(v);
  }

  /** @see https://hl7.org/fhir/R4/http.html#create */
  async create(
    ctx: RequestContext,
    trace: AuditTrace,
    type: string,
    body: unknown,
    opts: { ifNoneExist?: [string, string][]; id?: string },
    stage?: Stage,
    content?: ContentSession,
  ): Promise<WriteResult> {
    refuseReadOnly(type);
    const resource = requireResource(body, type);
    const existing = opts.ifNoneExist && (await this.door.conditional.ifNoneExist(ctx, type, opts.ifNoneExist));
    if (existing) {
      return this.door.written(trace, existing);
    }
    try {
      // The client's id, if any, is ignored: the server assigns ids on create (a transaction assigns them before rewriting references).
      const stored = await this.door.writer.create(type, opts.id ?? newId(), resource, this.door.hooks(ctx, 'create', trace, stage, content));
      return this.door.written(trace, { resource: stored, created: true });
    } catch (err) {
      // A concurrent conditional create of the same unique key won the race: answer with its resource.
      const winner = err instanceof UniqueConflict && opts.ifNoneExist && (await this.door.conditional.raceWinner(ctx, type, opts.ifNoneExist));
      if (winner) return this.door.written(trace, winner);
      throw uniqueConflictOutcome(err);
    }
  }

  /**
   * The create of a DocumentReference that replaces others, outside a
   * Bundle (DMP-RULES.md § 3 rule 6, as ITI-65 does in its transaction):
   * the new document and each replaced one made `superseded` are committed
   * together (one ResourceStore.writeAll), or nothing is. Each replaced
   * document is changed under the caller's rights like a PATCH of its
   * status, so only its author may replace it; the interaction's trace
   * (its one AuditEvent) names them all.
   * @see https://profiles.ihe.net/ITI/MHD/ITI-65.html
   */
  async createReplacing(ctx: RequestContext, trace: AuditTrace, body: unknown, opts: { ifNoneExist?: [string, string][] }, replaced: readonly string[]): Promise<WriteResult> {
    const staged: VersionWrite[] = [];
    const stage: Stage = (w) => staged.push(w);
    const result = await this.create(ctx, trace, 'DocumentReference', body, opts, stage);
    // A conditional create that found its document: nothing new, nothing to supersede.
    if (!result.created) return result;
    for (const ref of new Set(replaced)) {
      await this.patch(ctx, trace, 'DocumentReference', ref.slice('DocumentReference/'.length), SUPERSEDE, {}, stage).catch((err: unknown) => {
        // Unknown, hidden (the same answer, so nothing is revealed) or deleted: the new document cannot replace it.
        if (err instanceof FhirError && (err.status === 404 || err.status === 410)) {
          throw errors.unprocessable(`The document this one replaces (${ref}) is ${err.status === 404 ? 'not known' : 'deleted'}`, 'DocumentReference.relatesTo');
        }
        throw err;
      });
    }
    trace.level = 'type';
    await this.door.deps.store.writeAll(staged).catch((err: unknown) => {
      throw err instanceof GroupConflict ? groupConflictOutcome(err.conflict, false) : err;
    });
    return result;
  }

  /** @see https://hl7.org/fhir/R4/http.html#update */
  async update(
    ctx: RequestContext,
    trace: AuditTrace,
    type: string,
    id: string,
    body: unknown,
    opts: WriteOptions,
    stage?: Stage,
    content?: ContentSession,
  ): Promise<WriteResult> {
    trace.level = 'instance';
    refuseReadOnly(type);
    const resource = requireResource(body, type);
    requireMatchingId(resource, id);
    return this.door.written(trace, await this.door.writer.update(type, id, resource, opts, this.door.hooks(ctx, 'update', trace, stage, content)).catch(rethrowUnique));
  }

  /** @see https://hl7.org/fhir/R4/http.html#cond-update */
  async conditionalUpdate(
    ctx: RequestContext,
    trace: AuditTrace,
    type: string,
    criteria: [string, string][],
    body: unknown,
    opts: WriteOptions,
  ): Promise<WriteResult> {
    refuseReadOnly(type);
    const resource = requireResource(body, type);
    if (resource.id !== undefined) {
      requireMatchingId(resource, resource.id);
    }
    const match = await this.door.conditional.single(ctx, type, criteria, 'update');
    if (match && resource.id !== undefined && resource.id !== match.id) {
      throw errors.badRequest(`The resource id (${resource.id}) is not the id of the matching resource`, `${type}.id`);
    }
    const id = match?.id ?? resource.id ?? newId();
    return this.door.written(trace, await this.door.writer.update(type, id, resource, opts, this.door.hooks(ctx, 'update', trace)).catch(rethrowUnique));
  }

  /** @see https://hl7.org/fhir/R4/http.html#patch */
  async patch(
    ctx: RequestContext,
    trace: AuditTrace,
    type: string,
    id: string,
    ops: Operation[],
    opts: WriteOptions,
    stage?: Stage,
    content?: ContentSession,
  ): Promise<WriteResult> {
    trace.level = 'instance';
    refuseReadOnly(type);
    return this.door.written(trace, await this.door.writer.patch(type, id, ops, opts, this.door.hooks(ctx, 'patch', trace, stage, content)).catch(rethrowUnique));
  }

  /** Conditional patch: exactly one match is patched; none is 404, several 412. @see https://hl7.org/fhir/R4/http.html#patch */
  async conditionalPatch(ctx: RequestContext, trace: AuditTrace, type: string, criteria: [string, string][], ops: Operation[], opts: WriteOptions): Promise<WriteResult> {
    refuseReadOnly(type);
    const match = await this.door.conditional.single(ctx, type, criteria, 'patch');
    if (!match) {
      throw errors.notFound(`No ${type} matches the patch criteria`);
    }
    return this.door.written(trace, await this.door.writer.patch(type, match.id, ops, opts, this.door.hooks(ctx, 'patch', trace)).catch(rethrowUnique));
  }

  /** @see https://hl7.org/fhir/R4/http.html#delete */
  async delete(ctx: RequestContext, trace: AuditTrace, type: string, id: string, opts: WriteOptions, stage?: Stage): Promise<DeleteResult> {
    trace.level = 'instance';
    refuseReadOnly(type);
    trace.touchRef(type, id);
    return this.door.writer.delete(type, id, opts, this.door.hooks(ctx, 'delete', trace, stage));
  }

  /** Conditional delete of a single match; no match deletes nothing. @see https://hl7.org/fhir/R4/http.html#delete */
  async conditionalDelete(ctx: RequestContext, trace: AuditTrace, type: string, criteria: [string, string][]): Promise<DeleteResult> {
    refuseReadOnly(type);
    const match = await this.door.conditional.single(ctx, type, criteria, 'delete');
    return match ? this.door.writer.delete(type, match.id, {}, this.door.hooks(ctx, 'delete', trace)) : { deleted: false };
  }
}

/** AuditEvents are written by the server only (DMP-RULES.md § 8, item 11). */
function refuseReadOnly(type: string): void {
  if (READ_ONLY_TYPES.has(type)) {
    throw errors.methodNotAllowed(`${type} resources are written by the server only`);
  }
}

function uniqueConflictOutcome(err: unknown): unknown {
  return err instanceof UniqueConflict ? uniqueKeyTaken() : err;
}

function rethrowUnique(err: unknown): never {
  throw uniqueConflictOutcome(err);
}
