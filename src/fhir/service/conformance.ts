import type { Bundle, Coding, OperationOutcome, Parameters, Resource, ValueSet } from '@medplum/fhirtypes';
import type { AuditTrace } from '../../audit/trace';
import type { RequestContext } from '../context';
import { errors } from '../outcomes';
import { searchConformance } from '../profiles/conformance-search';
import type { ValidateRequest } from '../profiles/operations';
import type { ExpandParams } from '../profiles/terminology-ops';
import { storedResource } from '../versioning';
import { searchQuery, type ServiceDoor } from './door';

/**
 * The conformance operations ($validate, $expand, $validate-code, $lookup)
 * and the reads and searches of the profiles and terminology loaded from
 * profiles/ and terminology/ (src/fhir/profiles), below the door: they name
 * the operation in the trace and never audit. None stores anything.
 * @see https://hl7.org/fhir/R4/operationslist.html
 */
export class ConformanceInteractions {
  constructor(private readonly door: ServiceDoor) {}

  /** `$validate`; with `id` and no resource, the stored resource the caller may see. @see https://hl7.org/fhir/R4/resource-operation-validate.html */
  async validate(ctx: RequestContext, trace: AuditTrace, req: ValidateRequest & { id?: string }): Promise<OperationOutcome> {
    trace.operation = 'validate';
    let resource = req.resource;
    if (resource === undefined && req.id !== undefined && req.mode !== 'delete') {
      trace.level = 'instance';
      // Not a read interaction: one interaction, authorized and audited once; a hidden resource is unknown here too.
      const current = await this.door.visibleCurrent(ctx, req.type, req.id, trace);
      if (current.deleted) {
        throw errors.notFound(`Resource ${req.type}/${req.id} is not known`);
      }
      resource = JSON.parse(storedResource(current).json) as unknown;
    }
    return this.door.conformance().validate({ ...req, resource });
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-expand.html */
  async expand(trace: AuditTrace, params: ExpandParams & { id?: string }): Promise<ValueSet> {
    trace.operation = 'expand';
    return this.door.conformance().expand(params);
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-validate-code.html */
  async validateCode(trace: AuditTrace, url: string | undefined, codings: Coding[]): Promise<Parameters> {
    trace.operation = 'validate-code';
    return this.door.conformance().validateCode(url, codings);
  }

  /** @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html */
  async lookup(trace: AuditTrace, system: string | undefined, code: string | undefined): Promise<Parameters> {
    trace.operation = 'lookup';
    return this.door.conformance().lookup(system, code);
  }

  /** A loaded conformance resource, or undefined (the store may hold it). @see https://hl7.org/fhir/R4/http.html#read */
  async read(trace: AuditTrace, type: string, id: string): Promise<Resource | undefined> {
    trace.level = 'instance';
    trace.touchRef(type, id);
    return this.door.conformance().resources().find((r) => r.resourceType === type && r.id === id);
  }

  /** Search over the loaded conformance resources (see profiles/conformance-search.ts). */
  async search(ctx: RequestContext, trace: AuditTrace, type: string, params: [string, string][]): Promise<Bundle> {
    trace.query = searchQuery(type, params);
    return searchConformance(this.door.conformance().resources(), type, params, ctx.baseUrl);
  }
}
