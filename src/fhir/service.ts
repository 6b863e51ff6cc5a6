import type { Bundle, Coding, OperationOutcome, Parameters, Resource, ValueSet } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import type { RequestContext } from './context';
import { Interaction } from './interactions';
import { SYSTEM_SEARCH } from './scope-check';
import type { StoredResource } from './versioning';
import type { DeleteResult, WriteOptions, WriteResult } from './writer';
import { bundleKind } from './bundle/entries';
import { replacedDocuments } from './documents/provide-bundle';
import { runBatch } from './bundle/batch';
import type { ReturnPreference } from './bundle/response';
import { publicRunner } from './bundle/public-runner';
import type { BinaryRead } from './binary/binary-read';
import type { ExportRequest } from './export/operations';
import type { ExportSource } from './export/sources';
import type { ValidateRequest } from './profiles/operations';
import type { ExpandParams } from './profiles/terminology-ops';
import { AccessHistoryReads } from './service/access-history';
import { BinaryInteractions, type BinaryBytesRequest, type RawBinary } from './service/binary';
import { ConformanceInteractions } from './service/conformance';
import type { ServiceDeps } from './service/deps';
import { ServiceDoor } from './service/door';
import { RecordOperations, type ExportJobView } from './service/record-ops';
import { RecordInteractions } from './service/records';
import { SearchInteractions } from './service/search';
import { TransactionInteraction } from './service/transaction';

export type { DeleteResult, WriteOptions, WriteResult } from './writer';
export type { ServiceDeps } from './service/deps';
export type { BinaryBytesRequest, RawBinary } from './service/binary';

/**
 * THE door to data. Every interaction (read, vread, search, history, create,
 * update, patch, delete, their conditional forms, and the operations) is a
 * public method taking the request context first; routes, bundles and
 * operations never reach the store any other way. Each public method below
 * is one call to `door.perform` (service/door.ts), where the caller is
 * admitted (identified, SMART scopes, the access facts synchronised) and the
 * AuditEvent is written, exactly once; the access decision itself is taken
 * where the resource is known (AccessGuard), inside the parts of service/
 * that implement the interactions without deciding or auditing twice. The
 * one exception is a transaction, which audits each of its entries
 * (service/transaction.ts).
 * @see https://hl7.org/fhir/R4/http.html
 */
export class FhirService {
  private readonly door: ServiceDoor;
  private readonly records: RecordInteractions;
  private readonly binary: BinaryInteractions;
  private readonly searches: SearchInteractions;
  private readonly conformance: ConformanceInteractions;
  private readonly operations: RecordOperations;
  private readonly transactions: TransactionInteraction;

  constructor(private readonly deps: ServiceDeps) {
    this.door = new ServiceDoor(deps);
    const auditEvents = new AccessHistoryReads(this.door);
    this.records = new RecordInteractions(this.door, auditEvents);
    this.binary = new BinaryInteractions(this.door, this.records);
    this.searches = new SearchInteractions(this.door, auditEvents);
    this.conformance = new ConformanceInteractions(this.door);
    this.operations = new RecordOperations(this.door);
    this.transactions = new TransactionInteraction(this.door, this.records, this.searches);
  }

  /** @see https://hl7.org/fhir/R4/http.html#read */
  read(ctx: RequestContext, type: string, id: string): Promise<StoredResource> {
    return this.door.perform(ctx, Interaction.read, [type], (trace) => this.records.read(ctx, trace, type, id));
  }

  /** @see https://hl7.org/fhir/R4/http.html#vread */
  vread(ctx: RequestContext, type: string, id: string, versionId: string): Promise<StoredResource> {
    return this.door.perform(ctx, Interaction.vread, [type], (trace) => this.records.vread(ctx, trace, type, id, versionId));
  }

  /**
   * Create with a server-assigned id; with `ifNoneExist` (a search query), an
   * existing single match the caller may see is returned instead (200),
   * several matches are 412.
   * @see https://hl7.org/fhir/R4/http.html#create
   * @see https://hl7.org/fhir/R4/http.html#ccreate
   */
  create(ctx: RequestContext, type: string, body: unknown, opts: { ifNoneExist?: [string, string][] } = {}): Promise<WriteResult> {
    // A document replacing others makes them superseded with it (DMP-RULES.md § 3 rule 6).
    const replaced = type === 'DocumentReference' ? replacedDocuments(body) : [];
    return this.door.perform(ctx, Interaction.create, [type], (trace) =>
      replaced.length > 0 ? this.records.createReplacing(ctx, trace, body, opts, replaced) : this.records.create(ctx, trace, type, body, opts),
    );
  }

  /**
   * Update, or create with the client's id when the resource does not exist.
   * @see https://hl7.org/fhir/R4/http.html#update
   */
  update(ctx: RequestContext, type: string, id: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.door.perform(ctx, Interaction.update, [type], (trace) => this.records.update(ctx, trace, type, id, body, opts));
  }

  /**
   * Conditional update: no match creates, one match is updated, several are 412.
   * Criteria match only what the caller may see.
   * @see https://hl7.org/fhir/R4/http.html#cond-update
   */
  conditionalUpdate(ctx: RequestContext, type: string, criteria: [string, string][], body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.door.perform(ctx, Interaction.update, [type], (trace) => this.records.conditionalUpdate(ctx, trace, type, criteria, body, opts));
  }

  /** @see https://hl7.org/fhir/R4/http.html#patch */
  patch(ctx: RequestContext, type: string, id: string, ops: Operation[], opts: WriteOptions = {}): Promise<WriteResult> {
    return this.door.perform(ctx, Interaction.patch, [type], (trace) => this.records.patch(ctx, trace, type, id, ops, opts));
  }

  /** Conditional patch: exactly one match is patched; none is 404, several 412. */
  conditionalPatch(ctx: RequestContext, type: string, criteria: [string, string][], ops: Operation[], opts: WriteOptions = {}): Promise<WriteResult> {
    return this.door.perform(ctx, Interaction.patch, [type], (trace) => this.records.conditionalPatch(ctx, trace, type, criteria, ops, opts));
  }

  /** Logical delete: a tombstone version; later reads answer 410. @see https://hl7.org/fhir/R4/http.html#delete */
  delete(ctx: RequestContext, type: string, id: string, opts: WriteOptions = {}): Promise<DeleteResult> {
    return this.door.perform(ctx, Interaction.delete, [type], (trace) => this.records.delete(ctx, trace, type, id, opts));
  }

  /** Conditional delete of a single match; no match deletes nothing (200), several are 412. */
  conditionalDelete(ctx: RequestContext, type: string, criteria: [string, string][]): Promise<DeleteResult> {
    return this.door.perform(ctx, Interaction.delete, [type], (trace) => this.records.conditionalDelete(ctx, trace, type, criteria));
  }

  /**
   * `POST Binary` with raw bytes: the content is streamed to the store (outside
   * the resource JSON) once the write is checked, then the version is written.
   * @see https://hl7.org/fhir/R4/binary.html#rest
   */
  createBinary(ctx: RequestContext, raw: RawBinary): Promise<WriteResult> {
    return this.door.perform(ctx, Interaction.create, ['Binary'], (trace) => this.binary.create(ctx, trace, raw));
  }

  /** `PUT Binary/{id}` with raw bytes: a new version (or the Binary created with this id). */
  updateBinary(ctx: RequestContext, id: string, raw: RawBinary, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.door.perform(ctx, Interaction.update, ['Binary'], (trace) => this.binary.update(ctx, trace, id, raw, opts));
  }

  /**
   * Read or vread of a Binary for its bytes: decided (the Binary's uploader,
   * or a reader of a DocumentReference pointing to it: access/binary.ts) and
   * audited like any read, before any byte is sent.
   * @see https://hl7.org/fhir/R4/binary.html#rest
   * @see https://profiles.ihe.net/ITI/MHD/ITI-68.html
   */
  readBinary(ctx: RequestContext, id: string, versionId?: string, bytes?: BinaryBytesRequest): Promise<BinaryRead> {
    const interaction = versionId === undefined ? Interaction.read : Interaction.vread;
    return this.door.perform(ctx, interaction, ['Binary'], (trace) => this.binary.read(ctx, trace, id, versionId, bytes));
  }

  /**
   * History of one resource, one type, or the whole system, newest first,
   * limited to resources the caller may see now. Returns the Bundle as JSON text.
   * @see https://hl7.org/fhir/R4/http.html#history
   */
  history(ctx: RequestContext, scope: { type?: string; id?: string }, params: [string, string][], lenient = false): Promise<string> {
    return this.door.perform(ctx, Interaction.history, scope.type ? [scope.type] : [], (trace) => this.searches.history(ctx, trace, scope, params, lenient));
  }

  /**
   * Search over one type, or several (`types` from `_type` at system level).
   * Returns the searchset Bundle as JSON text.
   * @see https://hl7.org/fhir/R4/search.html
   */
  searchTypes(ctx: RequestContext, types: string[], params: [string, string][], opts: { lenient: boolean; path: string }): Promise<string> {
    return this.door.perform(ctx, Interaction.search, types, (trace) => this.searches.searchTypes(ctx, trace, types, params, opts));
  }

  /**
   * System-level search: `_type=A,B` names the types (all stored types when
   * absent); an unknown type is 400.
   * @see https://hl7.org/fhir/R4/http.html#search
   */
  searchSystem(ctx: RequestContext, params: [string, string][], opts: { lenient: boolean }): Promise<string> {
    return this.door.perform(ctx, Interaction.search, SYSTEM_SEARCH, (trace) => this.searches.searchSystem(ctx, trace, params, opts));
  }

  /**
   * `Patient/{id}/$close`: closes the DMP (DMP-RULES.md § 1). Professionals
   * are refused from then on; the patient still reads it and may reopen it.
   */
  closeRecord(ctx: RequestContext, id: string, reason: string | undefined): Promise<StoredResource> {
    return this.door.perform(ctx, Interaction.operation, ['Patient'], (trace) => this.operations.close(ctx, trace, id, reason));
  }

  /** `Patient/{id}/$reopen`: reopens a closed DMP. */
  reopenRecord(ctx: RequestContext, id: string): Promise<StoredResource> {
    return this.door.perform(ctx, Interaction.operation, ['Patient'], (trace) => this.operations.reopen(ctx, trace, id));
  }

  /**
   * `Patient/{id}/$verify-audit`: walks the DMP's AuditEvent hash chain and
   * says whether it is whole, or where it is first broken (DMP-RULES.md § 8
   * item 11). For the patient, the representatives and the administrator.
   */
  verifyAudit(ctx: RequestContext, patientId: string): Promise<Parameters> {
    return this.door.perform(ctx, Interaction.operation, ['Patient'], (trace) => this.operations.verifyAudit(ctx, trace, patientId));
  }

  /**
   * `Patient/{id}/$everything`: the patient's compartment and the directory
   * resources it references, restricted like a search (export/operations.ts).
   * Read-only: it needs search scopes.
   * @see https://hl7.org/fhir/R4/patient-operation-everything.html
   */
  everything(ctx: RequestContext, patientId: string, params: [string, string][], lenient: boolean): Promise<string> {
    return this.door.perform(ctx, Interaction.operation, ['Patient'], (trace) => this.operations.everything(ctx, trace, patientId, params, lenient), Interaction.search);
  }

  /**
   * Bulk Data kick-off: the decision (access/export.ts) and its AuditEvent;
   * `start` gets the source the job reads (export/sources.ts) and the
   * caller's owner key (access/export.ts `exportJobOwner`).
   * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
   */
  exportKickoff<T>(ctx: RequestContext, req: ExportRequest, start: (source: ExportSource, owner: string) => T): Promise<T> {
    const types = req.level === 'patient' ? ['Patient'] : [];
    return this.door.perform(ctx, Interaction.operation, types, (trace) => this.operations.exportKickoff(ctx, trace, req, start), Interaction.search);
  }

  /**
   * A later request about an export job (status, file download, cancel):
   * `find` looks the job up for the caller's owner key (access/export.ts
   * `exportJobOwner`: someone else's job is unknown, 404); one AuditEvent
   * names the DMPs the job holds.
   */
  exportStep<J extends ExportJobView, T>(ctx: RequestContext, operation: string, find: (owner: string) => J | undefined, run: (job: J) => Promise<T>): Promise<T> {
    return this.door.perform(ctx, Interaction.operation, [], (trace) => this.operations.exportStep(ctx, trace, operation, find, run), Interaction.search);
  }

  /**
   * `$validate` (type level, or instance level: `id` validates the stored
   * resource when no resource is given). Never stores anything.
   * @see https://hl7.org/fhir/R4/resource-operation-validate.html
   */
  validate(ctx: RequestContext, req: ValidateRequest & { id?: string }): Promise<OperationOutcome> {
    return this.door.perform(ctx, Interaction.operation, [req.type], (trace) => this.conformance.validate(ctx, trace, req));
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-expand.html */
  expandValueSet(ctx: RequestContext, params: ExpandParams & { id?: string }): Promise<ValueSet> {
    return this.door.perform(ctx, Interaction.operation, ['ValueSet'], (trace) => this.conformance.expand(trace, params));
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-validate-code.html */
  validateCode(ctx: RequestContext, url: string | undefined, codings: Coding[]): Promise<Parameters> {
    return this.door.perform(ctx, Interaction.operation, ['ValueSet'], (trace) => this.conformance.validateCode(trace, url, codings));
  }

  /** @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html */
  lookupCode(ctx: RequestContext, system: string | undefined, code: string | undefined): Promise<Parameters> {
    return this.door.perform(ctx, Interaction.operation, ['CodeSystem'], (trace) => this.conformance.lookup(trace, system, code));
  }

  /**
   * Read of a conformance resource loaded from profiles/ or terminology/
   * (undefined when not among them: the store may hold it).
   * @see https://hl7.org/fhir/R4/http.html#read
   */
  readConformance(ctx: RequestContext, type: string, id: string): Promise<Resource | undefined> {
    return this.door.perform(ctx, Interaction.read, [type], (trace) => this.conformance.read(trace, type, id));
  }

  /** Search over the loaded conformance resources (see profiles/conformance-search.ts). */
  searchConformance(ctx: RequestContext, type: string, params: [string, string][]): Promise<Bundle> {
    return this.door.perform(ctx, Interaction.search, [type], (trace) => this.conformance.search(ctx, trace, type, params));
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
   * A transaction, all or nothing: the caller is admitted once, each entry
   * passes the checks of its single interaction, all writes are committed
   * together, and each entry gets its own AuditEvent; no entry goes through
   * `perform` (service/transaction.ts).
   * @see https://hl7.org/fhir/R4/http.html#trules
   */
  transaction(ctx: RequestContext, body: unknown, prefer: ReturnPreference): Promise<string> {
    return this.transactions.run(ctx, body, prefer);
  }
}
