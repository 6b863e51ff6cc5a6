import { patientChain } from '../../audit/codes';
import type { AuditHistory } from '../../audit/history';
import { parseHistoryQuery } from '../../audit/history-query';
import type { AuditTrace } from '../../audit/trace';
import type { AccessGuard } from '../access-guard';
import type { RequestContext } from '../context';
import { errors } from '../outcomes';
import type { StoredResource } from '../versioning';
import type { ServiceDoor } from './door';

/**
 * AuditEvents as the API shows them: never the store's AuditEvent rows, but
 * the caller's access history, read from the hash chain of the DMP they act
 * for (DMP-RULES.md § 8; docs/audit.md). Used only when the audit and the
 * access control are on (`door.auditHistory` is present); no audit here.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export class AccessHistoryReads {
  constructor(private readonly door: ServiceDoor) {}

  /** Whether AuditEvent reads and searches are answered from the access history. */
  get active(): boolean {
    return this.door.auditHistory !== undefined;
  }

  /** `GET AuditEvent?...`: the caller's access history, from the chain of the DMP they act for. */
  async search(ctx: RequestContext, trace: AuditTrace, params: [string, string][], lenient: boolean): Promise<string> {
    const { limits, access } = this.door.deps;
    const q = parseHistoryQuery(params, { baseUrl: ctx.baseUrl, defaultCount: limits.defaultCount, maxCount: limits.maxCount, lenient });
    const patient = (access as AccessGuard).historyPatient(ctx, q.patient);
    trace.patient(patient);
    return (await (this.door.auditHistory as AuditHistory).search(patientChain(patient), q, ctx.baseUrl)).json;
  }

  /** `GET AuditEvent/{id}`: one entry of the caller's own access history; anyone else's is unknown (404). */
  async read(ctx: RequestContext, trace: AuditTrace, id: string): Promise<StoredResource> {
    const unknown = `Resource AuditEvent/${id} is not known`;
    let patient: string;
    try {
      patient = (this.door.deps.access as AccessGuard).historyPatient(ctx, undefined);
    } catch {
      throw errors.notFound(unknown);
    }
    trace.touchRef('AuditEvent', id, [patient]);
    const found = await (this.door.auditHistory as AuditHistory).read(patientChain(patient), id);
    if (!found) throw errors.notFound(unknown);
    return { type: 'AuditEvent', id, versionId: 1, lastUpdated: found.event.meta?.lastUpdated ?? (found.event.recorded as string), json: found.json };
  }
}
