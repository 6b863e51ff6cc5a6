/**
 * The `_cursor` parameter of paging links: an opaque, URL-safe encoding of a
 * keyset position (plan.ts `Cursor`). Keyset paging keeps pages stable under
 * concurrent writes and costs the same on page 1000 as on page 1, unlike
 * offsets. The cursor is not a secret (it holds sort values of rows the
 * client has already seen) and not a capability: access is re-checked on
 * every page, so a forged cursor can only move the position.
 * @see https://hl7.org/fhir/R4/http.html#paging
 */
import { errors } from '../outcomes';
import type { Cursor } from './plan';

/** Format version, so that a future change of encoding can refuse old cursors clearly. */
const VERSION = 1;
/** Sort values are bounded like any stored string: a cursor larger than this is not one of ours. */
const MAX_LENGTH = 8192;
const REF_RE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * Encodes a cursor as base64url JSON `[version, 'n'|'p', values, ref]`.
 * @see https://hl7.org/fhir/R4/search.html#paging
 */
export function encodeCursor(c: Cursor): string {
  const body = JSON.stringify([VERSION, c.direction === 'next' ? 'n' : 'p', c.values, c.ref]);
  return Buffer.from(body, 'utf8').toString('base64url');
}

function malformed(): Error {
  return errors.badRequest("Parameter '_cursor' is not a valid paging cursor: follow the Bundle's next/previous links as given");
}

/**
 * Decodes a `_cursor` value. Anything that is not exactly what
 * encodeCursor produces (bad base64url, bad JSON, wrong shape, wrong value
 * types, non-finite numbers, bad reference) is a 400.
 * @see https://hl7.org/fhir/R4/search.html#paging
 */
export function decodeCursor(s: string): Cursor {
  if (s.length === 0 || s.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(s)) {
    throw malformed();
  }
  const bytes = Buffer.from(s, 'base64url');
  // Node ignores trailing garbage bits; re-encoding catches any non-canonical input.
  if (bytes.toString('base64url') !== s) {
    throw malformed();
  }
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(data) || data.length !== 4 || data[0] !== VERSION) {
    throw malformed();
  }
  const [, dir, values, ref] = data as unknown[];
  if ((dir !== 'n' && dir !== 'p') || !Array.isArray(values) || typeof ref !== 'string' || !REF_RE.test(ref)) {
    throw malformed();
  }
  const okValue = (v: unknown) => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  if (values.length > 16 || !values.every(okValue)) {
    throw malformed();
  }
  return { direction: dir === 'n' ? 'next' : 'prev', values: values as (string | number | null)[], ref };
}
