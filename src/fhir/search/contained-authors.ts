import { converterFor, type ScalarEntry } from './extract-values';
import { SYNTHETIC_PARAM_PREFIX } from './index-entry';

/**
 * IHE MHD ITI-67 `author.given` / `author.family` are "the name parts of the
 * author person" of a DocumentReference, and in PDSm documents that person
 * is usually contained: `author` is `#role`, a contained PractitionerRole
 * whose `practitioner` is `#pr`, a contained Practitioner (or `author` is
 * the contained Practitioner itself). A FHIR chain never follows a `#`
 * reference, so these names are indexed with the document, at write time,
 * under synthetic parameters: the `dmp-` prefix keeps them out of `_sort`
 * (index-entry.ts sortValues) and the dot out of any client's reach (a
 * dotted name is parsed as a chain, and no SearchParameter code has a dot).
 * parse-author.ts searches them beside the ordinary chain.
 * @see https://profiles.ihe.net/ITI/MHD/ITI-67.html#2367412-message-semantics
 * @see https://hl7.org/fhir/R4/references.html#contained
 */
export const ContainedAuthorParam = {
  /** string: each `given` of a contained person (Practitioner, Patient, RelatedPerson) that is an author, or of the contained Practitioner of a contained PractitionerRole author. */
  given: `${SYNTHETIC_PARAM_PREFIX}author.given`,
  /** string: the `family` of that person. */
  family: `${SYNTHETIC_PARAM_PREFIX}author.family`,
  /**
   * reference: the `practitioner` of a contained PractitionerRole author when
   * it is not contained (`Practitioner/x`), so that a chain reaches its name.
   */
  practitioner: `${SYNTHETIC_PARAM_PREFIX}author.practitioner`,
} as const;

type Json = Record<string, unknown>;

const obj = (x: unknown): Json | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : undefined);
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === undefined ? [] : [x]);
const toString = converterFor('string', '');

/** The contained resource a `#id` reference names, if of one of `types`. */
function containedOf(doc: Json, reference: unknown, types: readonly string[]): Json | undefined {
  if (typeof reference !== 'string' || !reference.startsWith('#') || reference.length < 2) return undefined;
  const id = reference.slice(1);
  for (const c of list(doc.contained)) {
    const r = obj(c);
    if (r?.id === id) return types.includes(r.resourceType as string) ? r : undefined;
  }
  return undefined;
}

/**
 * The author persons a contained author may be, with their own names: those
 * the plain chain `author.given` reaches as resources (R4 DocumentReference
 * `author`: Practitioner, Patient, RelatedPerson; a patient may author his
 * own documents).
 */
const PERSONS = ['Practitioner', 'Patient', 'RelatedPerson'] as const;

function pushNames(person: Json, out: ScalarEntry[]): void {
  for (const n of list(person.name)) {
    const name = obj(n);
    for (const g of list(name?.given)) toString(ContainedAuthorParam.given, { type: 'string', value: g }, out);
    toString(ContainedAuthorParam.family, { type: 'string', value: name?.family }, out);
  }
}

/**
 * The contained-author entries of a DocumentReference (none for any other
 * type): the given and family names of each contained Practitioner,
 * Patient or RelatedPerson that is an `author`, and of the contained
 * Practitioner that is the `practitioner` of a contained PractitionerRole
 * author, normalized as every string entry is; and the
 * non-contained `practitioner` of a contained PractitionerRole author, as a
 * reference. A contained Practitioner that is not an author (an
 * `authenticator`, say) gives nothing. Never throws; not deduplicated.
 * @param baseUrl - this server's public base, so that an absolute reference
 *   to it indexes as a local `Type/id`.
 */
export function containedAuthorEntries(resource: unknown, baseUrl: string): ScalarEntry[] {
  const doc = obj(resource);
  if (doc?.resourceType !== 'DocumentReference' || !Array.isArray(doc.contained)) return [];
  const out: ScalarEntry[] = [];
  const toReference = converterFor('reference', baseUrl);
  for (const a of list(doc.author)) {
    const reference = obj(a)?.reference;
    const person = containedOf(doc, reference, PERSONS);
    if (person) {
      pushNames(person, out);
      continue;
    }
    const role = containedOf(doc, reference, ['PractitionerRole']);
    const ofRole = obj(role?.practitioner);
    if (!ofRole) continue;
    const inner = containedOf(doc, ofRole.reference, ['Practitioner']);
    if (inner) pushNames(inner, out);
    // A `#` reference names no target: the reference converter skips it, as it skips conditional ones.
    else toReference(ContainedAuthorParam.practitioner, { type: 'Reference', value: ofRole }, out);
  }
  return out;
}
