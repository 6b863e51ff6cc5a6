import { loadDefinitions } from '../../src/fhir/definitions';
import type { FhirError } from '../../src/fhir/outcomes';
import { parseSearch, type ParsedSearch, type SearchOptions } from '../../src/fhir/search/parse';
import type { Condition } from '../../src/fhir/search/plan';

export const BASE = 'https://dmp.example/fhir';
/** Pinned "now" so that `ap` plans are exact. */
export const NOW = Date.UTC(2025, 0, 1);

export const OPTIONS: SearchOptions = { baseUrl: BASE, defaultCount: 20, maxCount: 100, lenient: false, now: NOW };

loadDefinitions();

/** Parses a query string (decoded like Express does: `+` is a space) for `types`. */
export function parse(types: string | string[], query: string, options: Partial<SearchOptions> = {}): ParsedSearch {
  return parseSearch(Array.isArray(types) ? types : [types], [...new URLSearchParams(query)], { ...OPTIONS, ...options });
}

/** Parses raw (already decoded) name/value pairs: for values with backslashes, commas and such. */
export function parsePairs(types: string | string[], pairs: [string, string][], options: Partial<SearchOptions> = {}): ParsedSearch {
  return parseSearch(Array.isArray(types) ? types : [types], pairs, { ...OPTIONS, ...options });
}

/** The single condition a one-parameter query yields. */
export function where1(types: string | string[], query: string): Condition {
  const { plan } = parse(types, query);
  expect(plan.where).toHaveLength(1);
  return plan.where[0];
}

/** The status and message of the FhirError thrown by `fn` (fails the test when nothing is thrown). */
export function failure(fn: () => unknown): { status: number; text: string } {
  try {
    fn();
  } catch (e) {
    const err = e as FhirError;
    return { status: err.status, text: err.outcome.issue?.[0]?.details?.text ?? '' };
  }
  throw new Error('expected a failure, got none');
}

export const ms = (iso: string) => Date.parse(iso);
