import { normalizeString } from './index-entry';

/** Printable ASCII words separated by single spaces: nothing for normalizeString to do but lower-case. */
const PLAIN_ASCII = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/**
 * Recent results for accented text. Displays of codes repeat across
 * resources and across parameters of one resource (`code`, `combo-code`,
 * composites), and Unicode decomposition is most of normalizeString's cost.
 * Cleared when full, so memory stays bounded.
 */
const cache = new Map<string, string>();
const CACHE_MAX = 4096;
const CACHEABLE_LENGTH = 256;

/**
 * Exactly normalizeString(s) (lower case, accents removed, whitespace
 * collapsed), faster: plain ASCII (most codes) only needs lower-casing, and
 * accented text is memoized. Stored values must equal what the query parser
 * computes with normalizeString, so this is a shortcut, never a variant.
 * @see https://hl7.org/fhir/R4/search.html#string
 */
export function normalizeText(s: string): string {
  if (PLAIN_ASCII.test(s)) {
    return s.toLowerCase();
  }
  if (s.length > CACHEABLE_LENGTH) {
    return normalizeString(s);
  }
  let n = cache.get(s);
  if (n === undefined) {
    n = normalizeString(s);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(s, n);
  }
  return n;
}
