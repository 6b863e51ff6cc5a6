import type { AccessGuard } from './access-guard';
import type { RequestContext } from './context';
import { markCreator } from './creator';
import { checkDocumentChange, checkPatientChange } from './document-rules';
import { errors } from './outcomes';
import type { WriteHooks } from './writer';

/**
 * The hooks FhirService gives the write pipeline: the caller's right
 * (AccessGuard, when access control is on), the creator mark, and the rules
 * that hold for everyone: a DocumentReference is never replaced by PUT
 * (DMP-RULES.md § 3, item 7; a PUT that creates one with the client's id is
 * a create), only its status, labels and isArchived change by PATCH, and a
 * Patient's `active` flag changes only through `$close` / `$reopen`.
 * @see https://hl7.org/fhir/R4/http.html#update
 */
export function writeHooks(ctx: RequestContext, op: 'create' | 'update' | 'patch' | 'delete', access: AccessGuard | undefined): WriteHooks {
  return {
    markCreator: (resource, previous) => markCreator(resource, previous, ctx.principal),
    check: async (before, after) => {
      const text = `Resource ${(before ?? after)?.resourceType}/${(before ?? after)?.id} is not known`;
      if (access) {
        await access.checkWrite(ctx, { op: before ? op : 'create', before, after }, text);
      }
      if (op === 'update' && before?.resourceType === 'DocumentReference') {
        throw errors.methodNotAllowed('A DocumentReference cannot be replaced; PATCH its status, securityLabel or isArchived extension');
      }
      if (before && after && before.resourceType === 'DocumentReference') checkDocumentChange(before, after);
      if (before && after && before.resourceType === 'Patient') checkPatientChange(before, after);
    },
  };
}

/** An operation's own writes (`$close`): already authorized, so only the creator mark is kept. */
export function operationHooks(ctx: RequestContext): WriteHooks {
  return { markCreator: (resource, previous) => markCreator(resource, previous, ctx.principal) };
}
