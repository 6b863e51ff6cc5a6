import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { base64Content } from '../binary/base64-content';
import { issue } from '../outcomes';

/** Medplum's validator refuses any string over 1 MiB; a document of more than ~786 KB is a longer base64 text. */
const MEDPLUM_STRING_LIMIT = 1024 * 1024;
/** A character outside the base64 alphabet (a negated class scans ~7x faster than an anchored pattern over megabytes). */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
const PLACEHOLDER = 'AA==';

/**
 * Base64 document content longer than Medplum's 1 MiB string limit, in the
 * two places documents travel as JSON (`Binary.data`, and the inline
 * `DocumentReference.content.attachment.data`): checked here (base64 alphabet,
 * length a multiple of 4), and replaced by a short placeholder in the copy
 * the structural validation sees, so a 1 MB PDF is not refused as "String
 * cannot be larger than 1 MB". The request body limit (MAX_BODY_SIZE) still
 * bounds them. Returns the resource unchanged when there is nothing to do.
 * @see https://hl7.org/fhir/R4/datatypes.html#base64Binary
 */
export function withoutLargeBase64(resource: Resource): { resource: Resource; issues: OperationOutcomeIssue[] } {
  const issues: OperationOutcomeIssue[] = [];
  const big = (v: unknown): v is string => typeof v === 'string' && v.length > MEDPLUM_STRING_LIMIT;
  const check = (v: string, where: string) => {
    // Canonical base64 (the bytes are decoded anyway, to be stored) passes without the pattern's scan.
    if (base64Content(v).canonical) return;
    const pad = v.indexOf('=');
    if (v.length % 4 !== 0 || NOT_BASE64.test(v) || (pad >= 0 && pad < v.length - 2)) issues.push(issue('value', 'Invalid base64Binary format', where));
  };
  if (resource.resourceType === 'Binary' && big(resource.data)) {
    check(resource.data, 'Binary.data');
    return { resource: { ...resource, data: PLACEHOLDER }, issues };
  }
  if (resource.resourceType === 'DocumentReference' && resource.content?.some((c) => big(c.attachment?.data))) {
    const content = resource.content.map((c, i) => {
      if (!big(c.attachment?.data)) return c;
      check(c.attachment.data, `DocumentReference.content[${i}].attachment.data`);
      return { ...c, attachment: { ...c.attachment, data: PLACEHOLDER } };
    });
    return { resource: { ...resource, content }, issues };
  }
  return { resource, issues };
}
