import type { Bundle, Coding, OperationOutcome, OperationOutcomeIssue, Parameters, Resource, ValueSet } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { StoreUnavailable, UniqueConflict, type ResourceStore, type VersionRecord, type VersionWrite } from '../store/port';
import { Reason } from '../access/decision';
import { REFUSED_ROLES } from '../access/dmp-access';
import type { AccessGuard } from './access-guard';
import type { RequestContext } from './context';
import { isStoredResourceType, loadDefinitions } from './definitions';
import { historyBundleJson, parseHistoryParams, type PageLimits } from './history';
import { newId } from './ids';
import { ConditionalMatcher } from './conditional';
import { RecordLife } from './record-life';
import { checkScopes, SYSTEM_SEARCH } from './scope-check';
import { Interaction } from './interactions';
import { errors } from './outcomes';
import { requireMatchingId, requireResource } from './resource-body';
import type { IndexEntry } from './search/index-entry';
import { SearchRunner } from './search-runner';
import { storedResource, type StoredResource } from './versioning';
import { operationHooks, writeHooks } from './write-hooks';
import { ResourceWriter, type DeleteResult, type WriteHooks, type WriteOptions, type WriteResult } from './writer';
import { bundleKind } from './bundle/entries';
import { runBatch } from './bundle/batch';
import type { ReturnPreference } from './bundle/response';
import { lookupInput, publicRunner } from './bundle/public-runner';
import { runTransaction } from './bundle/transaction';
import { TransactionPortImpl, type TransactionPaths } from './bundle/transaction-port';
import type { Conformance } from './profiles/conformance';
import { searchConformance } from './profiles/conformance-search';
import type { ValidateRequest } from './profiles/operations';
import type { ExpandParams } from './profiles/terminology-ops';

export type { DeleteResult, WriteOptions, WriteResult } from './writer';

/** What the service needs; built once at start-up (see app.ts). */
export interface ServiceDeps {
  store: ResourceStore;
  /** Base R4 validation (src/fhir/validation). */
  validator: { validate(resource: Resource): OperationOutcomeIssue[] };
  /** Search index entries (src/fhir/search/extract, plus the access entries). */
  indexer: { extract(resource: Resource): IndexEntry[] };
  /** Keys no two live resources may share (one Patient per INS). */
  uniqueKeys?: (resource: Resource) => string[] | undefined;
  /**
   * The DMP access rules. Absent only when createApp is told to run without
   * access control (the benchmark's baseline and the REST-core tests).
   */
  access?: AccessGuard;
  limits: PageLimits;
  /** Profiles, $validate and terminology operations (src/fhir/profiles). */
  conformance?: Conformance;
  /** Clock, in epoch ms (tests may fix it). */
  now?: () => number;
  /** Most entries a batch or transaction Bundle may hold (BUNDLE_MAX_ENTRIES; default 1000). */
  bundleMaxEntries?: number;
}

/** Written only by the server itself: the API refuses to change them (405). */
const READ_ONLY_TYPES = new Set(['AuditEvent']);

/**
 * THE door to data. Every interaction (read, vread, search, history, create,
 * update, patch, delete, and their conditional forms) is a public method taking
 * the request context first; routes, bundles and operations never reach the
 * store any other way. Each public method runs through {@link perform}, where
 * the caller's rights are synchronised and (next) the AuditEvent is written,
 * exactly once; the access decision itself is taken where the resource is
 * known (AccessGuard), and its collaborators (ResourceWriter, SearchRunner)
 * reuse storage without deciding or auditing twice.
 * @see https://hl7.org/fhir/R4/http.html
 */
export class FhirService {
  private readonly search: SearchRunner;
  private readonly writer: ResourceWriter;
  private readonly recordLife: RecordLife;
  private readonly conditional: ConditionalMatcher;

  constructor(private readonly deps: ServiceDeps) {
    this.search = new SearchRunner(deps.store, deps.limits);
    this.writer = new ResourceWriter({ ...deps, now: deps.now ?? Date.now });
    this.recordLife = new RecordLife(this.writer, deps.now ?? Date.now);
    this.conditional = new ConditionalMatcher(this.search, deps.access);
  }

  /**
   * Runs one interaction for the caller. The AuditEvent of the interaction
   * (issue: traceability) is to be written here, and only here, with the
   * outcome (including refusals thrown by the access checks).
   */
  private async perform<T>(ctx: RequestContext, interaction: Interaction, types: readonly string[] | typeof SYSTEM_SEARCH, run: () => Promise<T>): Promise<T> {
    try {
      if (this.deps.access) {
        if (!ctx.principal) throw errors.unauthorized();
        // Insurers, employers, occupational physicians: nothing at all, whatever the path (DMP-RULES.md § 5).
        if (REFUSED_ROLES.has(ctx.principal.role)) throw errors.forbidden(`Access refused (${Reason.refusedRole})`);
        checkScopes(ctx.principal.scopes, interaction, types);
        await this.deps.access.sync();
      }
      return await run();
    } catch (err) {
      // The database's momentary refusal is the client's "retry", not a bug.
      throw err instanceof StoreUnavailable ? errors.unavailable() : err;
    }
  }

  /** @see https://hl7.org/fhir/R4/http.html#read */
  read(ctx: RequestContext, type: string, id: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.read, [type], () => this.readImpl(ctx, type, id));
  }

  private async readImpl(ctx: RequestContext, type: string, id: string): Promise<StoredResource> {
    const current = await this.visibleCurrent(ctx, type, id);
    if (current.deleted) {
      throw errors.gone(`Resource ${type}/${id} has been deleted`);
    }
    return storedResource(current);
  }

  /** @see https://hl7.org/fhir/R4/http.html#vread */
  vread(ctx: RequestContext, type: string, id: string, versionId: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.vread, [type], () => this.vreadImpl(ctx, type, id, versionId));
  }

  private async vreadImpl(ctx: RequestContext, type: string, id: string, versionId: string): Promise<StoredResource> {
    const unknown = `Version ${versionId} of ${type}/${id} is not known`;
    const v = /^[1-9]\d{0,9}$/.test(versionId) ? await this.deps.store.readVersion(type, id, Number(versionId)) : undefined;
    if (!v) {
      throw errors.notFound(unknown);
    }
    // Visibility follows the resource as it is now (its current labels), as in search and history.
    await this.visibleCurrent(ctx, type, id, unknown);
    if (v.deleted) {
      throw errors.gone(`Version ${versionId} of ${type}/${id} is a deletion`);
    }
    return storedResource(v);
  }

  /**
   * Create with a server-assigned id; with `ifNoneExist` (a search query), an
   * existing single match the caller may see is returned instead (200),
   * several matches are 412.
   * @see https://hl7.org/fhir/R4/http.html#create
   * @see https://hl7.org/fhir/R4/http.html#ccreate
   */
  create(ctx: RequestContext, type: string, body: unknown, opts: { ifNoneExist?: [string, string][] } = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.create, [type], () => this.createImpl(ctx, type, body, opts));
  }

  private async createImpl(ctx: RequestContext, type: string, body: unknown, opts: { ifNoneExist?: [string, string][]; id?: string }, stage?: Stage): Promise<WriteResult> {
    refuseReadOnly(type);
    const resource = requireResource(body, type);
    const existing = opts.ifNoneExist && (await this.conditional.ifNoneExist(ctx, type, opts.ifNoneExist));
    if (existing) {
      return existing;
    }
    try {
      // The client's id, if any, is ignored: the server assigns ids on create (a transaction assigns them before rewriting references).
      return { resource: await this.writer.create(type, opts.id ?? newId(), resource, this.hooks(ctx, 'create', stage)), created: true };
    } catch (err) {
      // A concurrent conditional create of the same unique key won the race: answer with its resource.
      const winner = err instanceof UniqueConflict && opts.ifNoneExist && (await this.conditional.raceWinner(ctx, type, opts.ifNoneExist));
      if (winner) return winner;
      throw uniqueConflictOutcome(err);
    }
  }

  /**
   * Update, or create with the client's id when the resource does not exist.
   * @see https://hl7.org/fhir/R4/http.html#update
   */
  update(ctx: RequestContext, type: string, id: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.update, [type], () => this.updateImpl(ctx, type, id, body, opts));
  }

  private async updateImpl(ctx: RequestContext, type: string, id: string, body: unknown, opts: WriteOptions, stage?: Stage): Promise<WriteResult> {
    refuseReadOnly(type);
    const resource = requireResource(body, type);
    requireMatchingId(resource, id);
    return this.writer.update(type, id, resource, opts, this.hooks(ctx, 'update', stage)).catch(rethrowUnique);
  }

  /**
   * Conditional update: no match creates, one match is updated, several are 412.
   * Criteria match only what the caller may see.
   * @see https://hl7.org/fhir/R4/http.html#cond-update
   */
  conditionalUpdate(
    ctx: RequestContext,
    type: string,
    criteria: [string, string][],
    body: unknown,
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.perform(ctx, Interaction.update, [type], async () => {
      refuseReadOnly(type);
      const resource = requireResource(body, type);
      if (resource.id !== undefined) {
        requireMatchingId(resource, resource.id);
      }
      const match = await this.conditional.single(ctx, type, criteria, 'update');
      if (match && resource.id !== undefined && resource.id !== match.id) {
        throw errors.badRequest(`The resource id (${resource.id}) is not the id of the matching resource`, `${type}.id`);
      }
      return this.writer.update(type, match?.id ?? resource.id ?? newId(), resource, opts, writeHooks(ctx, 'update', this.deps.access)).catch(rethrowUnique);
    });
  }

  /** @see https://hl7.org/fhir/R4/http.html#patch */
  patch(ctx: RequestContext, type: string, id: string, ops: Operation[], opts: WriteOptions = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.patch, [type], () => this.patchImpl(ctx, type, id, ops, opts));
  }

  private async patchImpl(ctx: RequestContext, type: string, id: string, ops: Operation[], opts: WriteOptions, stage?: Stage): Promise<WriteResult> {
    refuseReadOnly(type);
    return this.writer.patch(type, id, ops, opts, this.hooks(ctx, 'patch', stage)).catch(rethrowUnique);
  }

  /** Conditional patch: exactly one match is patched; none is 404, several 412. */
  conditionalPatch(
    ctx: RequestContext,
    type: string,
    criteria: [string, string][],
    ops: Operation[],
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.perform(ctx, Interaction.patch, [type], async () => {
      refuseReadOnly(type);
      const match = await this.conditional.single(ctx, type, criteria, 'patch');
      if (!match) {
        throw errors.notFound(`No ${type} matches the patch criteria`);
      }
      return this.writer.patch(type, match.id, ops, opts, writeHooks(ctx, 'patch', this.deps.access)).catch(rethrowUnique);
    });
  }

  /** Logical delete: a tombstone version; later reads answer 410. @see https://hl7.org/fhir/R4/http.html#delete */
  delete(ctx: RequestContext, type: string, id: string, opts: WriteOptions = {}): Promise<DeleteResult> {
    return this.perform(ctx, Interaction.delete, [type], () => this.deleteImpl(ctx, type, id, opts));
  }

  private async deleteImpl(ctx: RequestContext, type: string, id: string, opts: WriteOptions, stage?: Stage): Promise<DeleteResult> {
    refuseReadOnly(type);
    return this.writer.delete(type, id, opts, this.hooks(ctx, 'delete', stage));
  }

  /** Conditional delete of a single match; no match deletes nothing (200), several are 412. */
  conditionalDelete(ctx: RequestContext, type: string, criteria: [string, string][]): Promise<DeleteResult> {
    return this.perform(ctx, Interaction.delete, [type], async () => {
      refuseReadOnly(type);
      const match = await this.conditional.single(ctx, type, criteria, 'delete');
      return match ? this.writer.delete(type, match.id, {}, writeHooks(ctx, 'delete', this.deps.access)) : { deleted: false };
    });
  }

  /**
   * History of one resource, one type, or the whole system, newest first,
   * limited to resources the caller may see now. Returns the Bundle as JSON text.
   * @see https://hl7.org/fhir/R4/http.html#history
   */
  history(
    ctx: RequestContext,
    scope: { type?: string; id?: string },
    params: [string, string][],
    lenient = false,
  ): Promise<string> {
    return this.perform(ctx, Interaction.history, scope.type ? [scope.type] : [], async () => {
      const hp = parseHistoryParams(params, this.deps.limits, lenient);
      let where;
      if (scope.type && scope.id) {
        await this.visibleCurrent(ctx, scope.type, scope.id);
      } else if (this.deps.access) {
        where = await this.deps.access.historyRestriction(ctx);
      }
      const page = await this.deps.store.history({ ...scope, since: hp.since, count: hp.count, cursor: hp.cursor, where });
      const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
      return historyBundleJson(ctx.baseUrl, path, hp, page);
    });
  }

  /**
   * Search over one type, or several (`types` from `_type` at system level).
   * Returns the searchset Bundle as JSON text.
   * @see https://hl7.org/fhir/R4/search.html
   */
  searchTypes(ctx: RequestContext, types: string[], params: [string, string][], opts: { lenient: boolean; path: string }): Promise<string> {
    return this.perform(ctx, Interaction.search, types, () => this.searchBundle(ctx, types, params, { ...opts, baseUrl: ctx.baseUrl }));
  }

  /**
   * System-level search: `_type=A,B` names the types (all stored types when
   * absent); an unknown type is 400.
   * @see https://hl7.org/fhir/R4/http.html#search
   */
  searchSystem(ctx: RequestContext, params: [string, string][], opts: { lenient: boolean }): Promise<string> {
    return this.perform(ctx, Interaction.search, SYSTEM_SEARCH, () => {
      const named = params.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(',').map((t) => t.trim()));
      for (const t of named) {
        if (!isStoredResourceType(t)) {
          throw errors.badRequest(`Unknown resource type "${t}" in _type`, '_type');
        }
      }
      const types = named.length > 0 ? [...new Set(named)] : [...loadDefinitions().resourceTypes];
      if (this.deps.access && ctx.principal) {
        checkScopes(ctx.principal.scopes, Interaction.search, named.length > 0 ? types : []);
      }
      const rest = params.filter(([k]) => k !== '_type');
      const linkParams: [string, string][] = named.length > 0 ? [['_type', types.join(',')]] : [];
      return this.searchBundle(ctx, types, rest, { lenient: opts.lenient, path: '', baseUrl: ctx.baseUrl, linkParams });
    });
  }

  /**
   * `Patient/{id}/$close`: closes the DMP (DMP-RULES.md § 1). Professionals
   * are refused from then on; the patient still reads it and may reopen it.
   */
  closeRecord(ctx: RequestContext, id: string, reason: string | undefined): Promise<StoredResource> {
    return this.perform(ctx, Interaction.operation, ['Patient'], async () => {
      await this.deps.access?.checkRecordLife(ctx, id);
      return this.recordLife.close(ctx, id, reason, operationHooks(ctx));
    });
  }

  /**
   * `$validate` (type level, or instance level: `id` validates the stored
   * resource when no resource is given). Never stores anything.
   * @see https://hl7.org/fhir/R4/resource-operation-validate.html
   */
  validate(ctx: RequestContext, req: ValidateRequest & { id?: string }): Promise<OperationOutcome> {
    return this.perform(ctx, Interaction.operation, [req.type], async () => {
      let resource = req.resource;
      if (resource === undefined && req.id !== undefined && req.mode !== 'delete') {
        // Not this.read: one interaction, authorized and audited once; a hidden resource is unknown here too.
        const current = await this.visibleCurrent(ctx, req.type, req.id);
        if (current.deleted) {
          throw errors.notFound(`Resource ${req.type}/${req.id} is not known`);
        }
        resource = JSON.parse(storedResource(current).json) as unknown;
      }
      return this.conformanceOps().validate({ ...req, resource });
    });
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-expand.html */
  expandValueSet(ctx: RequestContext, params: ExpandParams & { id?: string }): Promise<ValueSet> {
    return this.perform(ctx, Interaction.operation, ['ValueSet'], async () => this.conformanceOps().expand(params));
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-validate-code.html */
  validateCode(ctx: RequestContext, url: string | undefined, codings: Coding[]): Promise<Parameters> {
    return this.perform(ctx, Interaction.operation, ['ValueSet'], async () => this.conformanceOps().validateCode(url, codings));
  }

  /** @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html */
  lookupCode(ctx: RequestContext, system: string | undefined, code: string | undefined): Promise<Parameters> {
    return this.perform(ctx, Interaction.operation, ['CodeSystem'], async () => this.conformanceOps().lookup(system, code));
  }

  /**
   * Read of a conformance resource loaded from profiles/ or terminology/
   * (undefined when not among them: the store may hold it).
   * @see https://hl7.org/fhir/R4/http.html#read
   */
  readConformance(ctx: RequestContext, type: string, id: string): Promise<Resource | undefined> {
    return this.perform(ctx, Interaction.read, [type], async () => this.conformanceOps().resources().find((r) => r.resourceType === type && r.id === id));
  }

  /** Search over the loaded conformance resources (see profiles/conformance-search.ts). */
  searchConformance(ctx: RequestContext, type: string, params: [string, string][]): Promise<Bundle> {
    return this.perform(ctx, Interaction.search, [type], async () => searchConformance(this.conformanceOps().resources(), type, params, ctx.baseUrl));
  }

  private conformanceOps(): Conformance {
    if (!this.deps.conformance) {
      throw errors.notSupported('Profiles and terminology are not loaded on this server');
    }
    return this.deps.conformance;
  }


  /** `Patient/{id}/$reopen`: reopens a closed DMP. */
  reopenRecord(ctx: RequestContext, id: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.operation, ['Patient'], async () => {
      await this.deps.access?.checkRecordLife(ctx, id);
      return this.recordLife.reopen(ctx, id, operationHooks(ctx));
    });
  }

  /**
   * `POST /fhir` with a Bundle: a batch or a transaction, by its type.
   * @see https://hl7.org/fhir/R4/http.html#transaction
   */
  bundle(ctx: RequestContext, body: unknown, prefer: ReturnPreference): Promise<string> {
    const { kind } = bundleKind(body, this.deps.bundleMaxEntries ?? 1000);
    return kind === 'batch' ? this.batch(ctx, body, prefer) : this.transaction(ctx, body, prefer);
  }

  /**
   * A batch: each entry goes through the public method of its interaction,
   * so each is decided (and audited) on its own, and succeeds or fails alone.
   * @see https://hl7.org/fhir/R4/http.html#transaction
   */
  async batch(ctx: RequestContext, body: unknown, prefer: ReturnPreference): Promise<string> {
    const { entries } = bundleKind(body, this.deps.bundleMaxEntries ?? 1000);
    return runBatch(entries, publicRunner(this, ctx), prefer, ctx.baseUrl);
  }

  /**
   * A transaction, all or nothing (see bundle/transaction.ts): each entry
   * passes the checks of its single interaction (scopes, validation, the
   * DMP rules through the same write hooks, conditional matching as the
   * caller sees), its writes are prepared, and all of them are committed by
   * one ResourceStore.writeAll. The caller is identified and the facts
   * synchronised once; no entry goes through `perform` again.
   * @see https://hl7.org/fhir/R4/http.html#trules
   */
  async transaction(ctx: RequestContext, body: unknown, prefer: ReturnPreference): Promise<string> {
    const { entries } = bundleKind(body, this.deps.bundleMaxEntries ?? 1000);
    const port = new TransactionPortImpl(this.transactionPaths(ctx), this.deps.store);
    try {
      if (this.deps.access) {
        if (!ctx.principal) throw errors.unauthorized();
        if (REFUSED_ROLES.has(ctx.principal.role)) throw errors.forbidden(`Access refused (${Reason.refusedRole})`);
        await this.deps.access.sync();
      }
      const done = await runTransaction(entries, port, prefer, ctx.baseUrl);
      // AUDIT HOOK (traceability issue): one AuditEvent per entry of the transaction, written here and only
      // here (not in `perform`: the entries never went through it). `audited` lists each entry's interaction,
      // type, id, response status and the patients whose DMP it touched (when access control is on).
      const audited = port.audited(done);
      void audited;
      return done.json;
    } catch (err) {
      // AUDIT HOOK (failure): the failing entry, named by the error, with its status; nothing was stored.
      const audited = port.audited(undefined, err);
      void audited;
      throw err instanceof StoreUnavailable ? errors.unavailable() : err;
    }
  }

  /** The private paths a transaction runs its entries through (stage: writes collected for the commit). */
  private transactionPaths(ctx: RequestContext): TransactionPaths {
    const scopes = (interaction: Interaction, type: string) => {
      if (this.deps.access && ctx.principal) checkScopes(ctx.principal.scopes, interaction, [type]);
    };
    return {
      scopes,
      create: (type, b, opts, stage) => this.createImpl(ctx, type, b, opts, stage),
      update: (type, id, b, opts, stage) => this.updateImpl(ctx, type, id, b, opts, stage),
      patch: (type, id, ops, opts, stage) => this.patchImpl(ctx, type, id, ops, opts, stage),
      delete: (type, id, opts, stage) => this.deleteImpl(ctx, type, id, opts, stage),
      read: (type, id) => this.readImpl(ctx, type, id),
      vread: (type, id, vid) => this.vreadImpl(ctx, type, id, vid),
      search: (type, params) => this.searchBundle(ctx, [type], params, { lenient: false, path: type, baseUrl: ctx.baseUrl }),
      lookup: async (params) => this.conformanceOps().lookup(...lookupInput(params)),
      matchOne: (type, criteria, what, exclude) => this.conditional.single(ctx, type, criteria, what, exclude),
      ifNoneExist: (type, criteria, exclude) => this.conditional.ifNoneExist(ctx, type, criteria, exclude),
      patientsOf: (json) => (this.deps.access ? [...this.deps.access.facetsOf(JSON.parse(json) as Resource).patients] : undefined),
    };
  }

  /** The write hooks of an interaction; in a transaction, the version is collected instead of written. */
  private hooks(ctx: RequestContext, op: 'create' | 'update' | 'patch' | 'delete', stage: Stage | undefined): WriteHooks {
    const hooks = writeHooks(ctx, op, this.deps.access);
    return stage ? { ...hooks, stage } : hooks;
  }

  // --- implementation, shared by the public methods (no audit here) ---

  private async searchBundle(
    ctx: RequestContext,
    types: string[],
    params: [string, string][],
    opts: { lenient: boolean; path: string; baseUrl: string; linkParams?: [string, string][] },
  ): Promise<string> {
    const access = this.deps.access;
    if (!access) {
      return this.search.bundle(types, params, opts);
    }
    // Matches, chains, _has and includes are all restricted inside the store's queries.
    return this.search.bundle(types, params, { ...opts, restriction: await access.searchRestriction(ctx, types, params) });
  }

  /**
   * The current version of a resource the caller may see (possibly a
   * tombstone, 410 for the caller to decide); 404 when unknown or hidden,
   * with the same text, so a refusal never confirms that a resource exists.
   */
  private async visibleCurrent(ctx: RequestContext, type: string, id: string, unknown = `Resource ${type}/${id} is not known`): Promise<VersionRecord> {
    const current = await this.deps.store.readCurrent(type, id);
    if (!current) {
      throw errors.notFound(unknown);
    }
    if (this.deps.access) {
      // A deleted resource is judged by its last live version.
      const live = current.deleted ? await this.deps.store.readVersion(type, id, current.versionId - 1) : current;
      if (!live || live.deleted) throw errors.notFound(unknown);
      await this.deps.access.checkRead(ctx, live, unknown);
    }
    return current;
  }
}

/** Collects a transaction's prepared versions (WriteHooks.stage). */
type Stage = (write: VersionWrite) => void;

/** AuditEvents are written by the server only (DMP-RULES.md § 8, item 11). */
function refuseReadOnly(type: string): void {
  if (READ_ONLY_TYPES.has(type)) {
    throw errors.methodNotAllowed(`${type} resources are written by the server only`);
  }
}

function uniqueConflictOutcome(err: unknown): unknown {
  return err instanceof UniqueConflict ? errors.conflict('Another resource already holds this identifier (one Patient per INS)') : err;
}

function rethrowUnique(err: unknown): never {
  throw uniqueConflictOutcome(err);
}
