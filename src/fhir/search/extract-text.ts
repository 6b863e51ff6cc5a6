import { normalizeString } from './index-entry';

/** Printable ASCII words separated by single spaces: nothing for normalizeString to do but lower-case. */
const PLAIN_ASCII = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/**
 * Exactly normalizeString(s) (lower case, accents removed, whitespace
 * collapsed), skipping its Unicode decomposition for plain ASCII (most codes
 * and displays), which cannot change anything there but the case. Stored
 * values must equal what the query parser computes with normalizeString, so
 * this is a shortcut, never a variant.
 * @see https://hl7.org/fhir/R4/search.html#string
 */
export function normalizeText(s: string): string {
  return PLAIN_ASCII.test(s) ? s.toLowerCase() : normalizeString(s);
}
