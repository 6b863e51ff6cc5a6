import type { Resource } from '@medplum/fhirtypes';
import { errors } from './outcomes';

/** The PDSm isArchived extension: one of the three things that may change on a DocumentReference. */
export const IS_ARCHIVED_EXTENSION = 'https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived';

/**
 * DMP-RULES.md § 3, rule 7: after creation a DocumentReference's content is
 * immutable; only `status`, `securityLabel` and the isArchived extension may
 * change, by PATCH (405 otherwise, PDSm rule). `meta` is the server's.
 * @see https://interop.esante.gouv.fr/ig/fhir/pdsm/
 */
export function checkDocumentChange(before: Resource, after: Resource): void {
  if (comparable(before) !== comparable(after)) {
    throw errors.methodNotAllowed('Only status, securityLabel and the isArchived extension of a DocumentReference may change');
  }
}

function comparable(r: Resource): string {
  const { meta: _m, status: _s, securityLabel: _l, extension, ...rest } = r as Resource & Record<string, unknown>;
  const ext = ((extension as { url: string }[] | undefined) ?? []).filter((e) => e.url !== IS_ARCHIVED_EXTENSION);
  return stableJson({ ...rest, extension: ext });
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A Patient's `active` flag is the DMP's open/closed state: it changes only through `$close` / `$reopen`. */
export function checkPatientChange(before: Resource, after: Resource): void {
  const was = (before as { active?: boolean }).active !== false;
  const is = (after as { active?: boolean }).active !== false;
  if (was !== is) {
    throw errors.unprocessable('A DMP is closed and reopened with Patient/{id}/$close and $reopen, not by changing Patient.active', 'Patient.active');
  }
}
