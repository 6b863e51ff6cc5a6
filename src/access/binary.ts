import type { Binary, DocumentReference, Resource } from '@medplum/fhirtypes';
import { ALLOW, hide, Reason, type Decision } from './decision';

/**
 * Who may read a Binary (DMP-RULES.md § 4): "whoever may read a
 * DocumentReference whose attachment points to it (with that document's
 * labels), and the principal that uploaded it". Pure functions: FhirService
 * loads the documents and their read decisions, these decide.
 * @see https://hl7.org/fhir/R4/binary.html#security
 */

/** A DocumentReference pointing at the Binary, with the caller's read decision on it. */
export interface BinaryDocument {
  id: string;
  /** `system|value` of its creating principal (creator mark), when recorded. */
  creator?: string;
  decision: Decision;
}

/** The verdict on a Binary read, and the document that granted it (for the audit: its patient). */
export interface BinaryVerdict {
  decision: Decision;
  /**
   * Index in `documents` of the document the decision was taken through:
   * the one that granted the read, else the first that counts (its DMP is
   * the one the access concerns). Absent when no document counts.
   */
  via?: number;
}

/**
 * The decision on reading a Binary.
 * - `own`: the ordinary read decision on the Binary itself (its uploader,
 *   through the creator mark, or the DMP of a Patient its securityContext
 *   names);
 * - `documents`: the DocumentReferences whose `content.attachment.url`
 *   points at it, or that its `securityContext` names.
 *
 * A document grants the read only when the Binary's uploader wrote it too,
 * or the Binary's `securityContext` names it (**project rule**: otherwise
 * anyone who may write a document could point it at someone else's Binary
 * and read the bytes through it). Any refusal is "hidden" (404): a Binary
 * never confirms that it exists.
 */
export function decideBinaryRead(
  own: Decision,
  binary: { creator?: string; securityContext: readonly string[] },
  documents: readonly BinaryDocument[],
): BinaryVerdict {
  const vouched = (d: BinaryDocument) => binary.securityContext.includes(d.id) || (d.creator !== undefined && d.creator === binary.creator);
  const granting = documents.findIndex((d) => vouched(d) && d.decision.effect === 'allow');
  if (granting >= 0) return { decision: ALLOW, via: granting };
  const first = documents.findIndex(vouched);
  const via = first >= 0 ? { via: first } : {};
  if (own.effect === 'allow') return { decision: own, ...via };
  const refused = first >= 0 ? documents[first].decision : own;
  return { decision: hide(refused.effect === 'allow' ? Reason.unknownPatient : refused.reason), ...via };
}

/** Ids of the DocumentReferences a Binary's `securityContext` names (`DocumentReference/id`, relative or under `baseUrl`). */
export function securityContextDocuments(binary: Resource, baseUrl: string): string[] {
  const ref = (binary as Binary).securityContext?.reference;
  const id = ref ? localId(ref, 'DocumentReference', baseUrl) : undefined;
  return id ? [id] : [];
}

/**
 * Ids of the Binaries a DocumentReference's attachments point to: each
 * `content.attachment.url` that is `Binary/id` or `baseUrl/Binary/id`
 * (a version suffix `/_history/n` is allowed). Other URLs are not this
 * server's Binaries.
 * @see https://profiles.ihe.net/ITI/MHD/ITI-68.html
 */
export function attachmentBinaries(doc: Resource, baseUrl: string): string[] {
  if (doc.resourceType !== 'DocumentReference') return [];
  const out = new Set<string>();
  for (const c of (doc as DocumentReference).content ?? []) {
    const url = c.attachment?.url;
    const id = url ? localId(url, 'Binary', baseUrl) : undefined;
    if (id) out.add(id);
  }
  return [...out];
}

const ID = '([A-Za-z0-9\\-.]{1,64})';

/** The id in `Type/id` or `baseUrl/Type/id` (optionally `/_history/n`), else undefined. */
function localId(url: string, type: string, baseUrl: string): string | undefined {
  const base = baseUrl.replace(/\/+$/, '');
  const rest = url.startsWith(`${base}/`) ? url.slice(base.length + 1) : url;
  const m = new RegExp(`^${type}/${ID}(?:/_history/[^/]+)?$`).exec(rest);
  return m?.[1];
}
