import type { Bundle, Coding, OperationOutcome, OperationOutcomeIssue, Parameters, Resource, ValueSet } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { StoreUnavailable, UniqueConflict, type ResourceStore, type VersionRecord, type VersionWrite } from '../store/port';
import { Reason } from '../access/decision';
import { REFUSED_ROLES } from '../access/dmp-access';
import { patientsInJson } from '../access/facets';
import { enforceRead, type AccessGuard } from './access-guard';
import { AuditTrace } from '../audit/trace';
import { patientChain } from '../audit/codes';
import { chainReportParameters } from '../audit/report';
import { verifyChain } from '../audit/verify';
import { AuditHistory } from '../audit/history';
import { parseHistoryQuery } from '../audit/history-query';
import type { InteractionAuditor } from '../audit/recorder';
import type { RequestContext } from './context';
import { isStoredResourceType, loadDefinitions } from './definitions';
import { historyBundleJson, parseHistoryParams, type PageLimits } from './history';
import { newId } from './ids';
import { ConditionalMatcher } from './conditional';
import { RecordLife } from './record-life';
import { checkScopes, SYSTEM_SEARCH } from './scope-check';
import { Interaction } from './interactions';
import { errors, FhirError, issue, outcome } from './outcomes';
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
import { prepareDocumentBundle, withProvideResponseProfile } from './documents/provide-bundle';
import { TransactionPortImpl, type EntryAudit, type TransactionPaths } from './bundle/transaction-port';
import type { Conformance } from './profiles/conformance';
import { searchConformance } from './profiles/conformance-search';
import type { ValidateRequest } from './profiles/operations';
import type { ExpandParams } from './profiles/terminology-ops';
import { prepareExport, runEverything, type ExportRequest, type OperationDoor } from './export/operations';
import type { ExportSource } from './export/sources';
import type { Readable } from 'node:stream';
import { ContentSession } from './binary/content-session';
import { binaryRead, type BinaryRead } from './binary/binary-read';
import { binaryDocuments } from './binary/documents';

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
  /**
   * The audit trail (src/audit): one AuditEvent per interaction, durable
   * before the answer. Present exactly when access control is.
   */
  audit?: InteractionAuditor;
  /** Most entries a batch or transaction Bundle may hold (BUNDLE_MAX_ENTRIES; default 1000). */
  bundleMaxEntries?: number;
  /** Largest Binary content in bytes (BINARY_MAX_SIZE; default 100 MB). */
  binaryMaxBytes?: number;
}

/** A Binary sent as raw bytes (`POST/PUT Binary` with any Content-Type but FHIR JSON). @see https://hl7.org/fhir/R4/binary.html#rest */
export interface RawBinary {
  contentType: string;
  /** `X-Security-Context`: the reference of the resource whose access rules apply (e.g. `DocumentReference/1`). */
  securityContext?: string;
  /** The bytes, streamed to the store (never held whole). */
  body: Readable;
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
  /** The access history, read from the patients' audit chains (present with the audit). */
  private readonly auditHistory?: AuditHistory;

  private readonly now: () => number;

  constructor(private readonly deps: ServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.search = new SearchRunner(deps.store, deps.limits);
    this.writer = new ResourceWriter({ ...deps, now: deps.now ?? Date.now });
    this.recordLife = new RecordLife(this.writer, deps.now ?? Date.now);
    this.conditional = new ConditionalMatcher(this.search, deps.access);
    this.auditHistory = deps.audit && deps.access ? new AuditHistory(deps.store) : undefined;
  }

  /**
   * Runs one interaction for the caller. The AuditEvent of the interaction
   * (issue: traceability) is to be written here, and only here, with the
   * outcome (including refusals thrown by the access checks).
   */
  private async perform<T>(
    ctx: RequestContext,
    interaction: Interaction,
    types: readonly string[] | typeof SYSTEM_SEARCH,
    run: (trace: AuditTrace) => Promise<T>,
    /** The interaction whose SMART scopes are needed (read-only operations need search, not update). */
    scopeAs: Interaction = interaction,
  ): Promise<T> {
    const trace = new AuditTrace();
    let result: T;
    try {
      if (this.deps.access) {
        if (!ctx.principal) throw errors.unauthorized();
        // Insurers, employers, occupational physicians: nothing at all, whatever the path (DMP-RULES.md § 5).
        if (REFUSED_ROLES.has(ctx.principal.role)) throw errors.forbidden(`Access refused (${Reason.refusedRole})`);
        checkScopes(ctx.principal.scopes, scopeAs, types);
        await this.deps.access.sync();
      }
      result = await run(trace);
    } catch (err) {
      // The database's momentary refusal is the client's "retry", not a bug.
      const refusal = err instanceof StoreUnavailable ? errors.unavailable() : err;
      await this.audit(ctx, interaction, trace, refusal);
      throw refusal;
    }
    await this.audit(ctx, interaction, trace, undefined, isCreated(result) ? 201 : 200);
    return result;
  }

  /**
   * Records the interaction (DMP-RULES.md § 8): only once it is durable does
   * the caller get an answer; if it cannot be recorded, the answer is 503
   * with no data, whatever the interaction did.
   */
  private async audit(ctx: RequestContext, interaction: Interaction, trace: AuditTrace, err: unknown, okStatus = 200): Promise<void> {
    if (!this.deps.audit) return;
    const status = err === undefined ? okStatus : err instanceof FhirError ? err.status : 500;
    const outcomeText = err instanceof FhirError ? err.outcome.issue?.[0]?.details?.text : undefined;
    try {
      // null: looked up, and the directory does not know him (the notifier need not look again).
      const agentName = this.deps.access ? ((await this.deps.access.agentName(ctx)) ?? null) : undefined;
      await this.deps.audit.interaction({ ctx, interaction, trace, status, outcomeText, agentName, recorded: new Date(this.now()).toISOString() });
    } catch {
      throw errors.unavailable();
    }
  }

  /** @see https://hl7.org/fhir/R4/http.html#read */
  read(ctx: RequestContext, type: string, id: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.read, [type], (trace) => this.readImpl(ctx, trace, type, id));
  }

  private async readImpl(ctx: RequestContext, trace: AuditTrace, type: string, id: string): Promise<StoredResource> {
    trace.level = 'instance';
    if (type === 'AuditEvent' && this.auditHistory) return this.auditEvent(ctx, trace, id);
    const current = await this.visibleCurrent(ctx, type, id, trace);
    if (current.deleted) {
      throw errors.gone(`Resource ${type}/${id} has been deleted`);
    }
    return storedResource(current);
  }

  /** @see https://hl7.org/fhir/R4/http.html#vread */
  vread(ctx: RequestContext, type: string, id: string, versionId: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.vread, [type], (trace) => this.vreadImpl(ctx, trace, type, id, versionId));
  }

  private async vreadImpl(ctx: RequestContext, trace: AuditTrace, type: string, id: string, versionId: string): Promise<StoredResource> {
    trace.level = 'instance';
    // An AuditEvent has one version: it is never changed.
    if (type === 'AuditEvent' && this.auditHistory && versionId === '1') return this.auditEvent(ctx, trace, id);
    if (type === 'AuditEvent' && this.auditHistory) throw errors.notFound(`Version ${versionId} of ${type}/${id} is not known`);
    const unknown = `Version ${versionId} of ${type}/${id} is not known`;
    const v = /^[1-9]\d{0,9}$/.test(versionId) ? await this.deps.store.readVersion(type, id, Number(versionId)) : undefined;
    if (!v) {
      trace.touchRef(type, id);
      throw errors.notFound(unknown);
    }
    // Visibility follows the resource as it is now (its current labels), as in search and history.
    await this.visibleCurrent(ctx, type, id, trace, unknown, v.versionId);
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
    return this.perform(ctx, Interaction.create, [type], (trace) => this.createImpl(ctx, trace, type, body, opts));
  }

  private async createImpl(
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
    const existing = opts.ifNoneExist && (await this.conditional.ifNoneExist(ctx, type, opts.ifNoneExist));
    if (existing) {
      return this.written(trace, existing);
    }
    try {
      // The client's id, if any, is ignored: the server assigns ids on create (a transaction assigns them before rewriting references).
      const stored = await this.writer.create(type, opts.id ?? newId(), resource, this.hooks(ctx, 'create', trace, stage, content));
      return this.written(trace, { resource: stored, created: true });
    } catch (err) {
      // A concurrent conditional create of the same unique key won the race: answer with its resource.
      const winner = err instanceof UniqueConflict && opts.ifNoneExist && (await this.conditional.raceWinner(ctx, type, opts.ifNoneExist));
      if (winner) return this.written(trace, winner);
      throw uniqueConflictOutcome(err);
    }
  }

  /**
   * Update, or create with the client's id when the resource does not exist.
   * @see https://hl7.org/fhir/R4/http.html#update
   */
  update(ctx: RequestContext, type: string, id: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.update, [type], (trace) => this.updateImpl(ctx, trace, type, id, body, opts));
  }

  private async updateImpl(
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
    return this.written(trace, await this.writer.update(type, id, resource, opts, this.hooks(ctx, 'update', trace, stage, content)).catch(rethrowUnique));
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
    return this.perform(ctx, Interaction.update, [type], async (trace) => {
      refuseReadOnly(type);
      const resource = requireResource(body, type);
      if (resource.id !== undefined) {
        requireMatchingId(resource, resource.id);
      }
      const match = await this.conditional.single(ctx, type, criteria, 'update');
      if (match && resource.id !== undefined && resource.id !== match.id) {
        throw errors.badRequest(`The resource id (${resource.id}) is not the id of the matching resource`, `${type}.id`);
      }
      const id = match?.id ?? resource.id ?? newId();
      return this.written(trace, await this.writer.update(type, id, resource, opts, this.hooks(ctx, 'update', trace)).catch(rethrowUnique));
    });
  }

  /** @see https://hl7.org/fhir/R4/http.html#patch */
  patch(ctx: RequestContext, type: string, id: string, ops: Operation[], opts: WriteOptions = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.patch, [type], (trace) => this.patchImpl(ctx, trace, type, id, ops, opts));
  }

  private async patchImpl(
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
    return this.written(trace, await this.writer.patch(type, id, ops, opts, this.hooks(ctx, 'patch', trace, stage, content)).catch(rethrowUnique));
  }

  /** Conditional patch: exactly one match is patched; none is 404, several 412. */
  conditionalPatch(
    ctx: RequestContext,
    type: string,
    criteria: [string, string][],
    ops: Operation[],
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.perform(ctx, Interaction.patch, [type], async (trace) => {
      refuseReadOnly(type);
      const match = await this.conditional.single(ctx, type, criteria, 'patch');
      if (!match) {
        throw errors.notFound(`No ${type} matches the patch criteria`);
      }
      return this.written(trace, await this.writer.patch(type, match.id, ops, opts, this.hooks(ctx, 'patch', trace)).catch(rethrowUnique));
    });
  }

  /** Logical delete: a tombstone version; later reads answer 410. @see https://hl7.org/fhir/R4/http.html#delete */
  delete(ctx: RequestContext, type: string, id: string, opts: WriteOptions = {}): Promise<DeleteResult> {
    return this.perform(ctx, Interaction.delete, [type], (trace) => this.deleteImpl(ctx, trace, type, id, opts));
  }

  private async deleteImpl(ctx: RequestContext, trace: AuditTrace, type: string, id: string, opts: WriteOptions, stage?: Stage): Promise<DeleteResult> {
    trace.level = 'instance';
    refuseReadOnly(type);
    trace.touchRef(type, id);
    return this.writer.delete(type, id, opts, this.hooks(ctx, 'delete', trace, stage));
  }

  /** Conditional delete of a single match; no match deletes nothing (200), several are 412. */
  conditionalDelete(ctx: RequestContext, type: string, criteria: [string, string][]): Promise<DeleteResult> {
    return this.perform(ctx, Interaction.delete, [type], async (trace) => {
      refuseReadOnly(type);
      const match = await this.conditional.single(ctx, type, criteria, 'delete');
      return match ? this.writer.delete(type, match.id, {}, this.hooks(ctx, 'delete', trace)) : { deleted: false };
    });
  }

  /**
   * `POST Binary` with raw bytes: the content is streamed to the store (outside
   * the resource JSON) once the write is checked, then the version is written.
   * @see https://hl7.org/fhir/R4/binary.html#rest
   */
  createBinary(ctx: RequestContext, raw: RawBinary): Promise<WriteResult> {
    return this.perform(ctx, Interaction.create, ['Binary'], (trace) =>
      this.createImpl(ctx, trace, 'Binary', rawBinaryResource(raw), {}, undefined, this.contentSession(raw.body)),
    );
  }

  /** `PUT Binary/{id}` with raw bytes: a new version (or the Binary created with this id). */
  updateBinary(ctx: RequestContext, id: string, raw: RawBinary, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.update, ['Binary'], (trace) =>
      this.updateImpl(ctx, trace, 'Binary', id, { ...rawBinaryResource(raw), id }, opts, undefined, this.contentSession(raw.body)),
    );
  }

  /**
   * Read or vread of a Binary for its bytes: decided (the Binary's uploader,
   * or a reader of a DocumentReference pointing to it: access/binary.ts) and
   * audited like any read, before any byte is sent.
   * @see https://hl7.org/fhir/R4/binary.html#rest
   * @see https://profiles.ihe.net/ITI/MHD/ITI-68.html
   */
  readBinary(ctx: RequestContext, id: string, versionId?: string): Promise<BinaryRead> {
    const interaction = versionId === undefined ? Interaction.read : Interaction.vread;
    return this.perform(ctx, interaction, ['Binary'], async (trace) => {
      const r = versionId === undefined ? await this.readImpl(ctx, trace, 'Binary', id) : await this.vreadImpl(ctx, trace, 'Binary', id, versionId);
      return binaryRead(this.deps.store, r);
    });
  }

  /** The content of the Binaries one interaction writes (see binary/content-session.ts). */
  private contentSession(raw?: Readable): ContentSession {
    return new ContentSession(this.deps.store, this.deps.binaryMaxBytes ?? DEFAULT_BINARY_MAX_BYTES, raw);
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
    return this.perform(ctx, Interaction.history, scope.type ? [scope.type] : [], async (trace) => {
      trace.level = scope.id ? 'instance' : scope.type ? 'type' : 'system';
      const hp = parseHistoryParams(params, this.deps.limits, lenient);
      if (scope.type === 'AuditEvent' && this.auditHistory) {
        this.deps.access?.checkNamedTypes(ctx, ['AuditEvent']);
        // An AuditEvent has one version and is never changed: its "history" is the access history itself.
        throw errors.notSupported('AuditEvents have no version history: read the access history with GET AuditEvent?patient=Patient/{id}');
      }
      let where;
      if (scope.type && scope.id) {
        await this.visibleCurrent(ctx, scope.type, scope.id, trace);
      } else if (this.deps.access) {
        if (scope.type) this.deps.access.checkNamedTypes(ctx, [scope.type]);
        where = await this.deps.access.historyRestriction(ctx);
      }
      const page = await this.deps.store.history({ ...scope, since: hp.since, count: hp.count, cursor: hp.cursor, where });
      if (!scope.id) this.touchAll(trace, page.entries);
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
    return this.perform(ctx, Interaction.search, types, (trace) => {
      trace.query = searchQuery(opts.path, params);
      this.deps.access?.checkNamedTypes(ctx, types);
      if (types.length === 1 && types[0] === 'AuditEvent' && this.auditHistory) return this.accessHistory(ctx, trace, params, opts.lenient);
      return this.searchBundle(ctx, trace, types, params, { ...opts, baseUrl: ctx.baseUrl });
    });
  }

  /**
   * System-level search: `_type=A,B` names the types (all stored types when
   * absent); an unknown type is 400.
   * @see https://hl7.org/fhir/R4/http.html#search
   */
  searchSystem(ctx: RequestContext, params: [string, string][], opts: { lenient: boolean }): Promise<string> {
    return this.perform(ctx, Interaction.search, SYSTEM_SEARCH, (trace) => {
      trace.level = 'system';
      trace.query = searchQuery('', params);
      const named = params.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(',').map((t) => t.trim()));
      for (const t of named) {
        if (!isStoredResourceType(t)) {
          throw errors.badRequest(`Unknown resource type "${t}" in _type`, '_type');
        }
      }
      const types = named.length > 0 ? [...new Set(named)] : [...loadDefinitions().resourceTypes];
      if (this.deps.access && ctx.principal) {
        checkScopes(ctx.principal.scopes, Interaction.search, named.length > 0 ? types : []);
        this.deps.access.checkNamedTypes(ctx, named);
      }
      const rest = params.filter(([k]) => k !== '_type');
      const linkParams: [string, string][] = named.length > 0 ? [['_type', types.join(',')]] : [];
      return this.searchBundle(ctx, trace, types, rest, { lenient: opts.lenient, path: '', baseUrl: ctx.baseUrl, linkParams });
    });
  }

  /**
   * `Patient/{id}/$close`: closes the DMP (DMP-RULES.md § 1). Professionals
   * are refused from then on; the patient still reads it and may reopen it.
   */
  closeRecord(ctx: RequestContext, id: string, reason: string | undefined): Promise<StoredResource> {
    return this.perform(ctx, Interaction.operation, ['Patient'], async (trace) => {
      operationTrace(trace, 'close', id);
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
    return this.perform(ctx, Interaction.operation, [req.type], async (trace) => {
      trace.operation = 'validate';
      let resource = req.resource;
      if (resource === undefined && req.id !== undefined && req.mode !== 'delete') {
        trace.level = 'instance';
        // Not this.read: one interaction, authorized and audited once; a hidden resource is unknown here too.
        const current = await this.visibleCurrent(ctx, req.type, req.id, trace);
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
    return this.perform(ctx, Interaction.operation, ['ValueSet'], async (trace) => {
      trace.operation = 'expand';
      return this.conformanceOps().expand(params);
    });
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-validate-code.html */
  validateCode(ctx: RequestContext, url: string | undefined, codings: Coding[]): Promise<Parameters> {
    return this.perform(ctx, Interaction.operation, ['ValueSet'], async (trace) => {
      trace.operation = 'validate-code';
      return this.conformanceOps().validateCode(url, codings);
    });
  }

  /** @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html */
  lookupCode(ctx: RequestContext, system: string | undefined, code: string | undefined): Promise<Parameters> {
    return this.perform(ctx, Interaction.operation, ['CodeSystem'], async (trace) => {
      trace.operation = 'lookup';
      return this.conformanceOps().lookup(system, code);
    });
  }

  /**
   * Read of a conformance resource loaded from profiles/ or terminology/
   * (undefined when not among them: the store may hold it).
   * @see https://hl7.org/fhir/R4/http.html#read
   */
  readConformance(ctx: RequestContext, type: string, id: string): Promise<Resource | undefined> {
    return this.perform(ctx, Interaction.read, [type], async (trace) => {
      trace.level = 'instance';
      trace.touchRef(type, id);
      return this.conformanceOps().resources().find((r) => r.resourceType === type && r.id === id);
    });
  }

  /** Search over the loaded conformance resources (see profiles/conformance-search.ts). */
  searchConformance(ctx: RequestContext, type: string, params: [string, string][]): Promise<Bundle> {
    return this.perform(ctx, Interaction.search, [type], async (trace) => {
      trace.query = searchQuery(type, params);
      return searchConformance(this.conformanceOps().resources(), type, params, ctx.baseUrl);
    });
  }

  private conformanceOps(): Conformance {
    if (!this.deps.conformance) {
      throw errors.notSupported('Profiles and terminology are not loaded on this server');
    }
    return this.deps.conformance;
  }


  /** `Patient/{id}/$reopen`: reopens a closed DMP. */
  reopenRecord(ctx: RequestContext, id: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.operation, ['Patient'], async (trace) => {
      operationTrace(trace, 'reopen', id);
      await this.deps.access?.checkRecordLife(ctx, id);
      return this.recordLife.reopen(ctx, id, operationHooks(ctx));
    });
  }

  /**
   * `Patient/{id}/$verify-audit`: walks the DMP's AuditEvent hash chain and
   * says whether it is whole, or where it is first broken (DMP-RULES.md § 8
   * item 11). For the patient, the representatives and the administrator.
   */
  verifyAudit(ctx: RequestContext, patientId: string): Promise<Parameters> {
    return this.perform(ctx, Interaction.operation, ['Patient'], async (trace) => {
      operationTrace(trace, 'verify-audit', patientId);
      this.deps.access?.checkVerifyAudit(ctx, patientId);
      return chainReportParameters(await verifyChain(this.deps.store, patientChain(patientId)));
    });
  }

  /**
   * `Patient/{id}/$everything`: the patient's compartment and the directory
   * resources it references, restricted like a search (export/operations.ts).
   * @see https://hl7.org/fhir/R4/patient-operation-everything.html
   */
  everything(ctx: RequestContext, patientId: string, params: [string, string][], lenient: boolean): Promise<string> {
    return this.perform(ctx, Interaction.operation, ['Patient'], (trace) => {
      trace.operation = 'everything';
      trace.query = searchQuery(`Patient/${patientId}/$everything`, params);
      return runEverything(this.door(ctx, trace), patientId, params, lenient);
    }, Interaction.search);
  }

  /**
   * Bulk Data kick-off: the decision (access/export.ts) and its AuditEvent;
   * `start` gets the source the job reads (export/sources.ts).
   * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
   */
  exportKickoff<T>(ctx: RequestContext, req: ExportRequest, start: (source: ExportSource) => T): Promise<T> {
    return this.perform(ctx, Interaction.operation, req.level === 'patient' ? ['Patient'] : [], async (trace) => {
      trace.operation = 'export';
      trace.query = `GET ${req.url}`;
      return start(await prepareExport(this.door(ctx, trace), req));
    }, Interaction.search);
  }

  /**
   * A later request about an export job (status, file download, cancel):
   * one AuditEvent naming the DMPs the job holds; `run` checks that the
   * caller owns the job.
   */
  exportStep<T>(ctx: RequestContext, operation: string, run: (patients: (ids: readonly string[]) => void) => Promise<T>): Promise<T> {
    return this.perform(ctx, Interaction.operation, [], (trace) => {
      trace.operation = operation;
      trace.level = 'system';
      return run((ids) => ids.forEach((id) => trace.patient(id)));
    }, Interaction.search);
  }

  /** What the export operations use of the service, for one interaction. */
  private door(ctx: RequestContext, trace: AuditTrace): OperationDoor {
    return {
      store: this.deps.store,
      access: this.deps.access,
      limits: this.deps.limits,
      ctx,
      trace,
      checkPatient: async (id) => {
        if ((await this.visibleCurrent(ctx, 'Patient', id, trace)).deleted) throw errors.gone(`Resource Patient/${id} has been deleted`);
      },
      observe: (versions) => this.touchAll(trace, versions),
    };
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
    // One content session for every Binary of the bundle: removed if the transaction fails.
    const content = this.contentSession();
    const port = new TransactionPortImpl(this.transactionPaths(ctx, content), this.deps.store);
    try {
      if (this.deps.access) {
        if (!ctx.principal) throw errors.unauthorized();
        if (REFUSED_ROLES.has(ctx.principal.role)) throw errors.forbidden(`Access refused (${Reason.refusedRole})`);
        await this.deps.access.sync();
      }
      // IHE MHD ITI-65 (documents/provide-bundle.ts): attachments agree with their Binaries, replaced documents become superseded.
      const documents = prepareDocumentBundle(entries);
      const done = await runTransaction(documents.entries, port, prefer, ctx.baseUrl);
      // One AuditEvent per entry, here and only here: the entries never went through `perform`.
      await this.auditEntries(ctx, port.audited(done));
      return documents.provide ? withProvideResponseProfile(done.json) : done.json;
    } catch (err) {
      const refusal = err instanceof StoreUnavailable ? errors.unavailable() : err;
      await content.discard();
      // The failing entry (nothing was stored); a refusal before any entry (401, refused role) as the transaction itself.
      const failed = port.audited(undefined, refusal);
      if (failed.length > 0) await this.auditEntries(ctx, failed);
      else await this.audit(ctx, Interaction.transaction, new AuditTrace(), refusal);
      throw refusal;
    }
  }

  /** The private paths a transaction runs its entries through (stage: writes collected for the commit). */
  private transactionPaths(ctx: RequestContext, content: ContentSession): TransactionPaths {
    const scopes = (interaction: Interaction, type: string) => {
      if (this.deps.access && ctx.principal) checkScopes(ctx.principal.scopes, interaction, [type]);
    };
    return {
      scopes,
      // Each entry's trace is not recorded: its AuditEvent is built from the port's per-entry list (auditEntries).
      create: (type, b, opts, stage) => this.createImpl(ctx, new AuditTrace(), type, b, opts, stage, content),
      update: (type, id, b, opts, stage) => this.updateImpl(ctx, new AuditTrace(), type, id, b, opts, stage, content),
      patch: (type, id, ops, opts, stage) => this.patchImpl(ctx, new AuditTrace(), type, id, ops, opts, stage, content),
      delete: (type, id, opts, stage) => this.deleteImpl(ctx, new AuditTrace(), type, id, opts, stage),
      read: (type, id) => this.readImpl(ctx, new AuditTrace(), type, id),
      vread: (type, id, vid) => this.vreadImpl(ctx, new AuditTrace(), type, id, vid),
      search: (type, params) => this.searchBundle(ctx, new AuditTrace(), [type], params, { lenient: false, path: type, baseUrl: ctx.baseUrl }),
      lookup: async (params) => this.conformanceOps().lookup(...lookupInput(params)),
      matchOne: (type, criteria, what, exclude) => this.conditional.single(ctx, type, criteria, what, exclude),
      ifNoneExist: (type, criteria, exclude) => this.conditional.ifNoneExist(ctx, type, criteria, exclude),
      patientsOf: (json) => (this.deps.access ? [...this.deps.access.facetsOf(JSON.parse(json) as Resource).patients] : undefined),
    };
  }

  /** One AuditEvent per transaction entry, from the port's list (its interaction, resource, status and DMPs). */
  private async auditEntries(ctx: RequestContext, entries: readonly EntryAudit[]): Promise<void> {
    for (const e of entries) {
      const trace = new AuditTrace();
      trace.level = e.id ? 'instance' : 'type';
      const access = this.deps.access;
      if (e.written && access) {
        // As written: documents named by their title, and a created resource for the notifications.
        const r = JSON.parse(e.written) as Resource;
        trace.touch(r, access.facetsOf(r), Number(r.meta?.versionId) || undefined);
        if (e.interaction === Interaction.create) trace.created = r;
      } else if (e.id) {
        trace.touchRef(e.type, e.id, e.patients ?? []);
      }
      const status = e.status;
      await this.audit(ctx, e.interaction, trace, status >= 400 ? entryFailure(status) : undefined, status || 200);
    }
  }

  // --- implementation, shared by the public methods (no audit here) ---

  private async searchBundle(
    ctx: RequestContext,
    trace: AuditTrace,
    types: string[],
    params: [string, string][],
    opts: { lenient: boolean; path: string; baseUrl: string; linkParams?: [string, string][] },
  ): Promise<string> {
    const access = this.deps.access;
    if (!access) {
      return this.search.bundle(types, params, opts);
    }
    // Matches, chains, _has and includes are all restricted inside the store's queries.
    const restriction = await access.searchRestriction(ctx, types, params, (patients) => patients.forEach((p) => trace.patient(p)));
    return this.search.bundle(types, params, {
      ...opts,
      restriction,
      observe: this.deps.audit ? (page) => this.touchAll(trace, [...page.matches, ...page.included]) : undefined,
    });
  }

  /** `GET AuditEvent?...`: the caller's access history, from the chain of the DMP they act for. */
  private async accessHistory(ctx: RequestContext, trace: AuditTrace, params: [string, string][], lenient: boolean): Promise<string> {
    const q = parseHistoryQuery(params, { baseUrl: ctx.baseUrl, defaultCount: this.deps.limits.defaultCount, maxCount: this.deps.limits.maxCount, lenient });
    const patient = (this.deps.access as AccessGuard).historyPatient(ctx, q.patient);
    trace.patient(patient);
    return (await (this.auditHistory as AuditHistory).search(patientChain(patient), q, ctx.baseUrl)).json;
  }

  /** `GET AuditEvent/{id}`: one entry of the caller's own access history; anyone else's is unknown (404). */
  private async auditEvent(ctx: RequestContext, trace: AuditTrace, id: string): Promise<StoredResource> {
    const unknown = `Resource AuditEvent/${id} is not known`;
    let patient: string;
    try {
      patient = (this.deps.access as AccessGuard).historyPatient(ctx, undefined);
    } catch {
      throw errors.notFound(unknown);
    }
    trace.touchRef('AuditEvent', id, [patient]);
    const found = await (this.auditHistory as AuditHistory).read(patientChain(patient), id);
    if (!found) throw errors.notFound(unknown);
    return { type: 'AuditEvent', id, versionId: 1, lastUpdated: found.event.meta?.lastUpdated ?? (found.event.recorded as string), json: found.json };
  }

  /** The write hooks of FhirService, which also tell the audit what the write touched (even when it is refused). */
  private hooks(ctx: RequestContext, op: 'create' | 'update' | 'patch' | 'delete', trace: AuditTrace, stage?: Stage, content?: ContentSession): WriteHooks {
    const base = writeHooks(ctx, op, this.deps.access);
    // In a transaction, the version is collected for the one commit instead of written.
    // A Binary's bytes go to the store, outside its JSON, before its version (every write path, Bundles included).
    const hooks: WriteHooks = { ...base, ...(stage ? { stage } : {}), content: content ?? this.contentSession() };
    const access = this.deps.access;
    if (!access || !this.deps.audit) return hooks;
    const check = hooks.check;
    return {
      ...hooks,
      check: async (before, after) => {
        for (const r of [before, after]) if (r) trace.touch(r, access.facetsOf(r), r === after ? Number(r.meta?.versionId) || undefined : undefined);
        if (after) trace.stored = after;
        await check?.(before, after);
      },
    };
  }

  /** A write's result, remembered by the audit (and the created resource, for notifications). */
  private written<T extends WriteResult>(trace: AuditTrace, result: T): T {
    const access = this.deps.access;
    if (access && this.deps.audit) {
      // The write hook already saw the version about to be stored (and touched it); a conditional create's existing match it did not.
      const seen = trace.stored;
      const same = seen?.id === result.resource.id && seen.resourceType === result.resource.type && seen.meta?.versionId === String(result.resource.versionId);
      const r = same ? (seen as Resource) : (JSON.parse(result.resource.json) as Resource);
      if (!same) trace.touch(r, access.facetsOf(r), result.resource.versionId);
      if (result.created) trace.created = r;
    }
    return result;
  }

  /** Versions returned by a search or history: the audit names them and their DMPs. */
  private touchAll(trace: AuditTrace, versions: readonly VersionRecord[]): void {
    const access = this.deps.access;
    if (!access || !this.deps.audit) return;
    for (const v of versions) {
      if (v.json === null) {
        trace.touchRef(v.type, v.id);
      } else if (v.type === 'DocumentReference') {
        // A document is named by its title, unless hidden from the patient: its labels are needed.
        const r = JSON.parse(v.json) as Resource;
        trace.touch(r, access.facetsOf(r), v.versionId);
      } else {
        trace.touchRef(v.type, v.id, patientsInJson(v.type, v.id, v.json), v.versionId);
      }
    }
  }

  /**
   * The current version of a resource the caller may see (possibly a
   * tombstone, 410 for the caller to decide); 404 when unknown or hidden,
   * with the same text, so a refusal never confirms that a resource exists.
   */
  private async visibleCurrent(
    ctx: RequestContext,
    type: string,
    id: string,
    trace: AuditTrace,
    unknown = `Resource ${type}/${id} is not known`,
    versionId?: number,
  ): Promise<VersionRecord> {
    const current = await this.deps.store.readCurrent(type, id);
    if (!current) {
      trace.touchRef(type, id);
      throw errors.notFound(unknown);
    }
    if (this.deps.access) {
      // A deleted resource is judged by its last live version.
      const live = current.deleted ? await this.deps.store.readVersion(type, id, current.versionId - 1) : current;
      if (!live || live.deleted) {
        trace.touchRef(type, id);
        throw errors.notFound(unknown);
      }
      const own = await this.deps.access.readVerdict(ctx, live);
      // A Binary is read through the documents pointing to it (DMP-RULES.md § 4), and is never a 403.
      const verdict =
        type === 'Binary' ? await this.deps.access.binaryVerdict(ctx, own, await binaryDocuments(this.deps.store, id, this.deps.access.binaryDocumentIds(own.resource))) : own;
      // Named in the audit whether allowed or not: the patient's history shows refused attempts too.
      trace.touch(verdict.resource, verdict.facets, versionId ?? current.versionId);
      enforceRead(verdict, unknown);
    } else {
      trace.touchRef(type, id);
    }
    return current;
  }
}

/** BINARY_MAX_SIZE's default. */
const DEFAULT_BINARY_MAX_BYTES = 100 * 1024 * 1024;

/** The Binary resource of a raw upload, before its bytes are stored. */
function rawBinaryResource(raw: RawBinary): Resource {
  return { resourceType: 'Binary', contentType: raw.contentType, ...(raw.securityContext ? { securityContext: { reference: raw.securityContext } } : {}) } as Resource;
}

/** Collects a transaction's prepared versions (WriteHooks.stage). */
type Stage = (write: VersionWrite) => void;

/** AuditEvents are written by the server only (DMP-RULES.md § 8, item 11). */
function refuseReadOnly(type: string): void {
  if (READ_ONLY_TYPES.has(type)) {
    throw errors.methodNotAllowed(`${type} resources are written by the server only`);
  }
}

/** `GET Type?a=b` as the AuditEvent's query entity records it. */
function searchQuery(path: string, params: readonly [string, string][]): string {
  const q = new URLSearchParams(params as [string, string][]).toString();
  return `GET ${path}${q ? `?${q}` : ''}`;
}

/** An operation on one DMP (`$close`, `$reopen`). */
function operationTrace(trace: AuditTrace, operation: string, patientId: string): void {
  trace.operation = operation;
  trace.level = 'instance';
  trace.touchRef('Patient', patientId, [patientId]);
}

/** A transaction entry's failure as the audit records it (its status; the text is the entry's own outcome, in the response). */
function entryFailure(status: number): FhirError {
  return new FhirError(status, outcome(issue('processing', `Bundle entry failed (${status})`)));
}

function isCreated(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { created?: unknown }).created === true;
}

function uniqueConflictOutcome(err: unknown): unknown {
  return err instanceof UniqueConflict ? errors.conflict('Another resource already holds this identifier (one Patient per INS)') : err;
}

function rethrowUnique(err: unknown): never {
  throw uniqueConflictOutcome(err);
}
