/**
 * Normalized search index entries, extracted once at write time from the R4
 * SearchParameter definitions (FHIRPath) and stored by every adapter with the
 * current version of a resource. Searches compare against these entries, never
 * against the resource JSON, so both adapters answer identically.
 *
 * Each kind has a fixed set of fields; `EntryField` lists them and the
 * SearchPlan predicates (plan.ts) refer to them by name.
 * @see https://hl7.org/fhir/R4/search.html#ptypes
 */
export type IndexEntry =
  | TokenEntry
  | StringEntry
  | ReferenceEntry
  | DateEntry
  | NumberEntry
  | QuantityEntry
  | UriEntry
  | CompositeEntry;

interface EntryBase {
  /** The search parameter code, e.g. `identifier`, `family`, `_tag`. */
  param: string;
}

/**
 * token: Coding, CodeableConcept, Identifier, ContactPoint, code, boolean, id, string used as token.
 * - `system`: Coding.system / Identifier.system / ContactPoint.system; null when absent.
 * - `code`: Coding.code / Identifier.value / ContactPoint.value / the primitive value; null when absent.
 * - `text`: normalized (see normalizeString) Coding.display, CodeableConcept.text or
 *   Identifier.type.text, for `:text`; null when absent.
 * Identifier.type is also indexed, for `:of-type`, as an entry with param `<code>:of-type`,
 * system = the type coding's system, code = `<type code>|<identifier value>`.
 * @see https://hl7.org/fhir/R4/search.html#token
 */
export interface TokenEntry extends EntryBase {
  kind: 'token';
  system: string | null;
  code: string | null;
  text: string | null;
}

/**
 * string: `value` is normalized (lower case, accents removed, whitespace collapsed);
 * `exact` is the original text, for `:exact`. HumanName and Address give one
 * entry per part (family, each given, prefix, suffix, text; line, city, ...).
 * @see https://hl7.org/fhir/R4/search.html#string
 */
export interface StringEntry extends EntryBase {
  kind: 'string';
  value: string;
  exact: string;
}

/**
 * reference: `ref` is the normalized target. A local reference (relative, or
 * absolute with this server's base) is `Type/id` (version suffix dropped) and
 * then `type` and `id` are set; any other absolute URL or canonical is kept
 * whole (for a canonical, `|version` is dropped) with `type`/`id` null.
 * A Reference with only `identifier` has `ref` null and `idSystem`/`idValue` set
 * (`:identifier`); a Reference may have both.
 * @see https://hl7.org/fhir/R4/search.html#reference
 */
export interface ReferenceEntry extends EntryBase {
  kind: 'reference';
  ref: string | null;
  type: string | null;
  id: string | null;
  idSystem: string | null;
  idValue: string | null;
}

/**
 * date: the value's implicit range, as epoch milliseconds, both ends
 * inclusive (`2020` is 2020-01-01T00:00:00.000Z .. 2020-12-31T23:59:59.999Z).
 * An open Period end is {@link MIN_DATE} / {@link MAX_DATE}.
 * Dates and dateTimes without a time zone are read as UTC.
 * @see https://hl7.org/fhir/R4/search.html#date
 */
export interface DateEntry extends EntryBase {
  kind: 'date';
  low: number;
  high: number;
}

/**
 * number: the stored value, and the implicit range [low, high) of its text
 * as stored (`1.50` is [1.495, 1.505), see values.ts decimalRange), which
 * `eq`, `ne`, `sa`, `eb` and `ap` compare with the search value's range.
 * @see https://hl7.org/fhir/R4/search.html#number
 */
export interface NumberEntry extends EntryBase {
  kind: 'number';
  value: number;
  low: number;
  high: number;
}

/**
 * quantity: value with its system/code (UCUM when system is
 * http://unitsofmeasure.org) and the human unit; null when absent.
 * Money and SimpleQuantity are indexed the same way (Money: code = currency).
 * @see https://hl7.org/fhir/R4/search.html#quantity
 */
export interface QuantityEntry extends EntryBase {
  kind: 'quantity';
  value: number;
  /** The implicit range of the value's text, as in {@link NumberEntry}. */
  low: number;
  high: number;
  system: string | null;
  code: string | null;
  unit: string | null;
}

/** uri / url / canonical values, verbatim. @see https://hl7.org/fhir/R4/search.html#uri */
export interface UriEntry extends EntryBase {
  kind: 'uri';
  value: string;
}

/**
 * composite: one entry per combination of component values taken from the
 * same element (e.g. the same Observation.component), so that
 * `component-code-value-quantity=loinc|8480-6$gt100` only matches values that
 * belong together. `parts[i]` is the entry for component i, with `param` set
 * to the component's own search parameter code.
 * @see https://hl7.org/fhir/R4/search.html#composite
 */
export interface CompositeEntry extends EntryBase {
  kind: 'composite';
  parts: Exclude<IndexEntry, CompositeEntry>[];
}

/** The comparable fields of each entry kind (what plan predicates may name). */
export const ENTRY_FIELDS = {
  token: ['system', 'code', 'text'],
  string: ['value', 'exact'],
  reference: ['ref', 'type', 'id', 'idSystem', 'idValue'],
  date: ['low', 'high'],
  number: ['value', 'low', 'high'],
  quantity: ['value', 'low', 'high', 'system', 'code', 'unit'],
  uri: ['value'],
} as const;

export type ScalarEntryKind = keyof typeof ENTRY_FIELDS;
export type EntryField = (typeof ENTRY_FIELDS)[ScalarEntryKind][number];

/** Earliest / latest instants (ms) JavaScript dates can hold: open Period ends. */
export const MIN_DATE = -8.64e15;
export const MAX_DATE = 8.64e15;

/** Printable ASCII words separated by single spaces: nothing to do but lower-case. */
const PLAIN_ASCII = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;
/**
 * Recent results for other text. Displays and names repeat across resources
 * and parameters, and Unicode decomposition is most of the cost. Cleared when
 * full, so memory stays bounded.
 */
const normalized = new Map<string, string>();
const MEMO_MAX = 4096;
const MEMO_MAX_LENGTH = 256;

/**
 * The string normalization every string entry and string search value goes
 * through: accent-free, lower case, whitespace collapsed, so that `Élodie`
 * matches `elodie`. It runs for every indexed string of every write, so plain
 * ASCII (most codes and many names) takes a shortcut and the rest is memoized;
 * both give exactly the full normalization.
 */
export function normalizeString(s: string): string {
  if (PLAIN_ASCII.test(s)) {
    return s.toLowerCase();
  }
  if (s.length > MEMO_MAX_LENGTH) {
    return fullNormalization(s);
  }
  let n = normalized.get(s);
  if (n === undefined) {
    n = fullNormalization(s);
    if (normalized.size >= MEMO_MAX) normalized.clear();
    normalized.set(s, n);
  }
  return n;
}

function fullNormalization(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Sort values of a resource for one parameter: `low` is used for ascending
 * sorts and `high` for descending ones (FHIR: a multi-valued element sorts by
 * its lowest value ascending and its highest descending).
 * @see https://hl7.org/fhir/R4/search.html#_sort
 */
export interface SortValue {
  low: string | number;
  high: string | number;
}

/** The value of an entry used for sorting; strings and numbers never mix within one parameter. */
function sortValuesOf(e: Exclude<IndexEntry, CompositeEntry>): [string | number, string | number] | undefined {
  switch (e.kind) {
    case 'token':
      return e.code === null ? undefined : [e.code, e.code];
    case 'string':
      return [e.value, e.value];
    case 'reference':
      return e.ref === null ? undefined : [e.ref, e.ref];
    case 'date':
      return [e.low, e.high];
    case 'number':
    case 'quantity':
      return [e.value, e.value];
    case 'uri':
      return [e.value, e.value];
  }
}

/**
 * Prefix of the synthetic index parameters the server adds for its own
 * queries (the access entries of src/access/codes.ts AccessParam): not
 * search parameters, so clients can neither search nor sort by them.
 */
export const SYNTHETIC_PARAM_PREFIX = 'dmp-';

/**
 * Sort values per parameter, derived from the index entries. Both adapters
 * store exactly this, so `_sort` orders identically everywhere. Composite
 * parameters are not sortable and are skipped.
 */
export function sortValues(entries: readonly IndexEntry[]): Record<string, SortValue> {
  const out: Record<string, SortValue> = {};
  for (const e of entries) {
    // Synthetic entries (the access index, `dmp-*`) are never a client's `_sort`: no sort row for them.
    if (e.kind === 'composite' || e.param.startsWith(SYNTHETIC_PARAM_PREFIX)) {
      continue;
    }
    const v = sortValuesOf(e);
    if (!v) {
      continue;
    }
    const cur = out[e.param];
    if (!cur) {
      out[e.param] = { low: v[0], high: v[1] };
    } else {
      if (v[0] < cur.low) cur.low = v[0];
      if (v[1] > cur.high) cur.high = v[1];
    }
  }
  return out;
}
