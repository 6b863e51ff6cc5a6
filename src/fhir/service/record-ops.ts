import type { Parameters } from '@medplum/fhirtypes';
import { exportJobOwner } from '../../access/export';
import { patientChain } from '../../audit/codes';
import { chainReportParameters } from '../../audit/report';
import type { AuditTrace } from '../../audit/trace';
import { verifyChain } from '../../audit/verify';
import type { RequestContext } from '../context';
import { prepareExport, runEverything, type ExportRequest, type OperationDoor } from '../export/operations';
import type { ExportSource } from '../export/sources';
import { errors } from '../outcomes';
import type { StoredResource } from '../versioning';
import { operationHooks } from '../write-hooks';
import { searchQuery, type ServiceDoor } from './door';

/**
 * Operations on one patient's record as a whole (DMP-RULES.md § 1, § 8):
 * `$close`, `$reopen`, `$verify-audit`, `$everything`, and the Bulk Data
 * export's kick-off and later steps. Below the door: each names its
 * operation and DMP in the trace, and never audits.
 * @see https://hl7.org/fhir/R4/patient-operation-everything.html
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
 */
export class RecordOperations {
  constructor(private readonly door: ServiceDoor) {}

  /** `Patient/{id}/$close`: professionals are refused from then on. */
  async close(ctx: RequestContext, trace: AuditTrace, id: string, reason: string | undefined): Promise<StoredResource> {
    operationTrace(trace, 'close', id);
    await this.door.deps.access?.checkRecordLife(ctx, id);
    return this.door.recordLife.close(ctx, id, reason, operationHooks(ctx));
  }

  /** `Patient/{id}/$reopen`. */
  async reopen(ctx: RequestContext, trace: AuditTrace, id: string): Promise<StoredResource> {
    operationTrace(trace, 'reopen', id);
    await this.door.deps.access?.checkRecordLife(ctx, id);
    return this.door.recordLife.reopen(ctx, id, operationHooks(ctx));
  }

  /** `Patient/{id}/$verify-audit`: the DMP's AuditEvent hash chain, whole or where first broken. */
  async verifyAudit(ctx: RequestContext, trace: AuditTrace, patientId: string): Promise<Parameters> {
    operationTrace(trace, 'verify-audit', patientId);
    this.door.deps.access?.checkVerifyAudit(ctx, patientId);
    return chainReportParameters(await verifyChain(this.door.deps.store, patientChain(patientId)));
  }

  /** `Patient/{id}/$everything`, restricted like a search (export/operations.ts). */
  everything(ctx: RequestContext, trace: AuditTrace, patientId: string, params: [string, string][], lenient: boolean): Promise<string> {
    trace.operation = 'everything';
    trace.query = searchQuery(`Patient/${patientId}/$everything`, params);
    return runEverything(this.operationDoor(ctx, trace), patientId, params, lenient);
  }

  /** Bulk Data kick-off: the decision (access/export.ts); `start` gets the source the job reads. */
  async exportKickoff<T>(ctx: RequestContext, trace: AuditTrace, req: ExportRequest, start: (source: ExportSource, owner: string) => T): Promise<T> {
    trace.operation = 'export';
    trace.query = `GET ${req.url}`;
    return start(await prepareExport(this.operationDoor(ctx, trace), req), exportJobOwner(ctx.principal));
  }

  /**
   * A later request about an export job: found as the caller's own
   * (access/export.ts `exportJobOwner`; unknown, expired and someone
   * else's are the same 404), its DMPs named in the AuditEvent, then `run`.
   */
  async exportStep<J extends ExportJobView, T>(ctx: RequestContext, trace: AuditTrace, operation: string, find: (owner: string) => J | undefined, run: (job: J) => Promise<T>): Promise<T> {
    trace.operation = operation;
    trace.level = 'system';
    const job = find(exportJobOwner(ctx.principal));
    if (!job) throw errors.notFound('No such export job (unknown, expired, cancelled, or not yours)');
    job.patients.forEach((id) => trace.patient(id));
    return run(job);
  }

  /** What the export operations use of the service, for one interaction. */
  private operationDoor(ctx: RequestContext, trace: AuditTrace): OperationDoor {
    const { store, access, limits } = this.door.deps;
    return {
      store,
      access,
      limits,
      ctx,
      trace,
      checkPatient: async (id) => {
        if ((await this.door.visibleCurrent(ctx, 'Patient', id, trace)).deleted) throw errors.gone(`Resource Patient/${id} has been deleted`);
      },
      observe: (versions) => this.door.touchAll(trace, versions),
    };
  }
}

/** An operation on one DMP (`$close`, `$reopen`, `$verify-audit`). */
function operationTrace(trace: AuditTrace, operation: string, patientId: string): void {
  trace.operation = operation;
  trace.level = 'instance';
  trace.touchRef('Patient', patientId, [patientId]);
}

/** What the service needs of an export job: the DMPs it holds, for the AuditEvent. */
export interface ExportJobView {
  readonly patients: readonly string[];
}
