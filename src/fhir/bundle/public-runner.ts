import type { Parameters } from '@medplum/fhirtypes';
import type { RequestContext } from '../context';
import type { FhirService } from '../service';
import type { EntryRunner } from './run-entry';

/**
 * A batch's entry runner: FhirService's public methods, one call per entry,
 * so each entry is authorized (and audited) exactly as the same request
 * sent alone.
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
export function publicRunner(service: FhirService, ctx: RequestContext): EntryRunner {
  return {
    create: (type, b, opts) => service.create(ctx, type, b, { ifNoneExist: opts.ifNoneExist }),
    update: (type, id, b, opts) => service.update(ctx, type, id, b, opts),
    conditionalUpdate: (type, criteria, b, opts) => service.conditionalUpdate(ctx, type, criteria, b, opts),
    patch: (type, id, ops, opts) => service.patch(ctx, type, id, ops, opts),
    conditionalPatch: (type, criteria, ops, opts) => service.conditionalPatch(ctx, type, criteria, ops, opts),
    delete: (type, id, opts) => service.delete(ctx, type, id, opts),
    conditionalDelete: (type, criteria) => service.conditionalDelete(ctx, type, criteria),
    read: (type, id) => service.read(ctx, type, id),
    vread: (type, id, vid) => service.vread(ctx, type, id, vid),
    search: (type, params) => service.searchTypes(ctx, [type], params, { lenient: false, path: type }),
    lookup: (params) => service.lookupCode(ctx, ...lookupInput(params)),
  };
}

/** `$lookup` input from its Parameters: `system` + `code`, or a `coding`. @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html */
export function lookupInput(params: Parameters): [string | undefined, string | undefined] {
  const p = params?.parameter ?? [];
  const coding = p.find((x) => x.name === 'coding')?.valueCoding;
  const system = p.find((x) => x.name === 'system')?.valueUri ?? coding?.system;
  const code = p.find((x) => x.name === 'code')?.valueCode ?? coding?.code;
  return [system, code];
}
