import type { IndexEntry, TokenEntry } from './index-entry';
import { MAX_DATE, MIN_DATE, normalizeString } from './index-entry';
import type { PathValue } from './extract-path';
import { lexemeOf } from '../json/lexemes';
import { dateRange, normalizeReference, numberFields } from './values';

/** Every entry kind except composite: what one value of a simple parameter becomes. */
export type ScalarEntry = Exclude<IndexEntry, { kind: 'composite' }>;

/** Turns one value into entries for parameter `param`, appending to `out`. */
export type Converter = (param: string, v: PathValue, out: ScalarEntry[]) => void;

/** The SearchParameter types this module converts values for. */
export type ScalarParamType = 'token' | 'string' | 'reference' | 'date' | 'number' | 'quantity' | 'uri';

// Element values are untyped JSON: every read checks its type, so odd data
// is skipped instead of throwing or indexing garbage.
type Json = Record<string, unknown>;
const obj = (x: unknown): Json | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : undefined);
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null);
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === undefined ? [] : [x]);

const text = (x: unknown): string | null => {
  const s = str(x);
  return s === null ? null : normalizeString(s);
};

/** Primitive types whose JSON value is a string. */
const STRING_PRIMITIVES = new Set(['string', 'markdown', 'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid', 'base64Binary', 'xhtml']);

function token(param: string, system: string | null, code: string | null, txt: string | null): TokenEntry {
  return { kind: 'token', param, system, code, text: txt };
}

function pushCoding(param: string, c: unknown, out: ScalarEntry[]): void {
  const coding = obj(c);
  if (!coding) return;
  const system = str(coding.system);
  const code = str(coding.code);
  const display = text(coding.display);
  if (system !== null || code !== null || display !== null) {
    out.push(token(param, system, code, display));
  }
}

/**
 * Token values: Coding, CodeableConcept (each coding, plus its text as a
 * system-less, code-less entry for `:text`), Identifier (+ `:of-type`
 * entries), ContactPoint, and primitives (code with its bound system,
 * boolean, id, string, uri...).
 * @see https://hl7.org/fhir/R4/search.html#token
 */
const toToken: Converter = (param, v, out) => {
  const value = v.value as unknown;
  switch (v.type) {
    case 'Coding':
      return pushCoding(param, value, out);
    case 'CodeableConcept': {
      const cc = obj(value);
      if (!cc) return;
      for (const c of list(cc.coding)) pushCoding(param, c, out);
      const t = text(cc.text);
      if (t !== null) out.push(token(param, null, null, t));
      return;
    }
    case 'Identifier': {
      const id = obj(value);
      if (!id) return;
      const system = str(id.system);
      const idValue = str(id.value);
      const type = obj(id.type);
      if (system !== null || idValue !== null) {
        out.push(token(param, system, idValue, text(type?.text)));
      }
      // :of-type matches type code and value together, so index them as one code.
      if (idValue !== null && type) {
        for (const c of list(type.coding)) {
          const tc = obj(c);
          const typeCode = str(tc?.code);
          if (typeCode !== null) out.push(token(`${param}:of-type`, str(tc?.system), `${typeCode}|${idValue}`, null));
        }
      }
      return;
    }
    case 'ContactPoint': {
      const cp = obj(value);
      const system = str(cp?.system);
      const cpValue = str(cp?.value);
      if (system !== null || cpValue !== null) out.push(token(param, system, cpValue, null));
      return;
    }
    case 'boolean':
      if (typeof value === 'boolean') out.push(token(param, null, String(value), null));
      return;
    default:
      if (STRING_PRIMITIVES.has(v.type) && str(value) !== null) {
        out.push(token(param, v.type === 'code' ? (v.system ?? null) : null, value as string, null));
      }
  }
};

function pushString(param: string, x: unknown, out: ScalarEntry[]): void {
  if (typeof x !== 'string') return;
  const value = normalizeString(x);
  if (value !== '') out.push({ kind: 'string', param, value, exact: x });
}

const NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

/**
 * String values: string-like primitives, HumanName and Address (one entry per
 * part), and the texts of a CodeableConcept / Coding (e.g. Observation
 * value-string on a valueCodeableConcept).
 * @see https://hl7.org/fhir/R4/search.html#string
 */
const toString: Converter = (param, v, out) => {
  const value = v.value as unknown;
  const parts = v.type === 'HumanName' ? NAME_PARTS : v.type === 'Address' ? ADDRESS_PARTS : undefined;
  if (parts) {
    const o = obj(value);
    if (!o) return;
    for (const p of parts) for (const x of list(o[p])) pushString(param, x, out);
  } else if (v.type === 'CodeableConcept') {
    const cc = obj(value);
    pushString(param, cc?.text, out);
    for (const c of list(cc?.coding)) pushString(param, obj(c)?.display, out);
  } else if (v.type === 'Coding') {
    pushString(param, obj(value)?.display, out);
  } else if (STRING_PRIMITIVES.has(v.type)) {
    pushString(param, value, out);
  }
};

/**
 * Reference values: Reference (target normalized against the server base;
 * contained `#` and conditional `Type?query` targets skipped; identifier for
 * `:identifier`) and
 * canonical / uri references (`|version` dropped).
 * @see https://hl7.org/fhir/R4/search.html#reference
 */
const REFERENCE_STRINGS = new Set(['canonical', 'uri', 'url']);

function toReference(baseUrl: string): Converter {
  // A conditional reference (`Patient?identifier=...`) is only meaningful
  // inside a transaction, which resolves it before storing: it names no target.
  const target = (x: unknown) => (typeof x === 'string' && !x.includes('?') ? normalizeReference(x, baseUrl) : undefined);
  return (param, v, out) => {
    const value = v.value as unknown;
    if (typeof value === 'string') {
      if (!REFERENCE_STRINGS.has(v.type)) return;
      const n = target(value);
      if (n) out.push({ kind: 'reference', param, ...n, idSystem: null, idValue: null });
      return;
    }
    const ref = obj(value);
    if (v.type !== 'Reference' || !ref) return;
    const n = target(ref.reference);
    const identifier = obj(ref.identifier);
    const idSystem = str(identifier?.system);
    const idValue = str(identifier?.value);
    if (n || idValue !== null) {
      out.push({ kind: 'reference', param, ref: n?.ref ?? null, type: n?.type ?? null, id: n?.id ?? null, idSystem, idValue });
    }
  };
}

const DATE_TYPES = new Set(['date', 'dateTime', 'instant']);

function pushPeriod(param: string, p: Json | undefined, out: ScalarEntry[]): void {
  const start = typeof p?.start === 'string' ? dateRange(p.start) : undefined;
  const end = typeof p?.end === 'string' ? dateRange(p.end) : undefined;
  // A present but invalid bound would widen the range to infinity: skip instead.
  if ((p?.start !== undefined && !start) || (p?.end !== undefined && !end) || (!start && !end)) return;
  out.push({ kind: 'date', param, low: start?.low ?? MIN_DATE, high: end?.high ?? MAX_DATE });
}

/**
 * Date values: date / dateTime / instant (precision range), Period (start's
 * low to end's high, open ends MIN_DATE / MAX_DATE), Timing (each event, and
 * repeat.boundsPeriod).
 * @see https://hl7.org/fhir/R4/search.html#date
 */
const toDate: Converter = (param, v, out) => {
  const value = v.value as unknown;
  if (typeof value === 'string') {
    // Procedure.performed[x] may be free text: only FHIR date types have a range.
    if (!DATE_TYPES.has(v.type)) return;
    const r = dateRange(value);
    if (r) out.push({ kind: 'date', param, low: r.low, high: r.high });
  } else if (v.type === 'Period') {
    pushPeriod(param, obj(value), out);
  } else if (v.type === 'Timing') {
    const timing = obj(value);
    for (const e of list(timing?.event)) toDate(param, { type: 'dateTime', value: e }, out);
    const bounds = obj(obj(timing?.repeat)?.boundsPeriod);
    if (bounds) pushPeriod(param, bounds, out);
  }
};

/** Quantity-like values (Range: its low and high, as two entries). */
function quantities(v: PathValue): Json[] {
  const o = obj(v.value);
  if (!o) return [];
  if (v.type === 'Range') return [obj(o.low), obj(o.high)].filter((q): q is Json => q !== undefined);
  return [o];
}

/**
 * Number values: integer / decimal / positiveInt / unsignedInt, and the
 * value(s) of a Quantity or Range (R4 number parameters such as
 * RiskAssessment probability may be a Range).
 * @see https://hl7.org/fhir/R4/search.html#number
 */
const toNumber: Converter = (param, v, out) => {
  const n = num(v.value);
  if (n !== undefined) {
    out.push({ kind: 'number', param, ...numberFields(n, v.text) });
    return;
  }
  for (const q of quantities(v)) {
    const value = num(q.value);
    if (value !== undefined) out.push({ kind: 'number', param, ...numberFields(value, lexemeOf(q, 'value')) });
  }
};


const ISO_4217 = 'urn:iso:std:iso:4217';

/**
 * Quantity values: Quantity and its profiles (Age, Count, Distance, Duration,
 * SimpleQuantity), Money (code = currency, system ISO 4217), and Range, whose
 * low and high are indexed as two separate quantities (a search then matches
 * a range when either bound matches; ranges are rare in searched data).
 * SampledData is not indexed.
 * @see https://hl7.org/fhir/R4/search.html#quantity
 */
const toQuantity: Converter = (param, v, out) => {
  if (!ACCEPTS.quantity.has(v.type)) return;
  for (const q of quantities(v)) {
    const value = num(q.value);
    if (value === undefined) continue;
    const n = numberFields(value, lexemeOf(q, 'value'));
    if (v.type === 'Money') {
      const currency = str(q.currency);
      out.push({ kind: 'quantity', param, ...n, system: currency === null ? null : ISO_4217, code: currency, unit: null });
    } else {
      out.push({ kind: 'quantity', param, ...n, system: str(q.system), code: str(q.code), unit: str(q.unit) });
    }
  }
};

/** Uri values: uri / url / canonical / oid / uuid, verbatim. @see https://hl7.org/fhir/R4/search.html#uri */
const toUri: Converter = (param, v, out) => {
  const value = str(v.value);
  if (value !== null && STRING_PRIMITIVES.has(v.type)) out.push({ kind: 'uri', param, value });
};

const QUANTITY_LIKE = ['Quantity', 'Age', 'Count', 'Distance', 'Duration', 'SimpleQuantity', 'MoneyQuantity'];

/** The value types each converter turns into entries (anything else is skipped). */
const ACCEPTS: Record<ScalarParamType, ReadonlySet<string>> = {
  token: new Set(['Coding', 'CodeableConcept', 'Identifier', 'ContactPoint', 'boolean', ...STRING_PRIMITIVES]),
  string: new Set(['HumanName', 'Address', 'CodeableConcept', 'Coding', ...STRING_PRIMITIVES]),
  reference: new Set(['Reference', ...REFERENCE_STRINGS]),
  date: new Set([...DATE_TYPES, 'Period', 'Timing']),
  number: new Set(['integer', 'decimal', 'positiveInt', 'unsignedInt', 'Range', ...QUANTITY_LIKE]),
  quantity: new Set(['Money', 'Range', ...QUANTITY_LIKE]),
  uri: STRING_PRIMITIVES,
};

/** True when a value of FHIR type `valueType` can be indexed by a parameter of type `paramType`. */
export function accepts(paramType: ScalarParamType, valueType: string): boolean {
  return ACCEPTS[paramType].has(valueType);
}

/** The converter for a SearchParameter type; reference needs the server base to recognize local targets. */
export function converterFor(type: ScalarParamType, baseUrl: string): Converter {
  switch (type) {
    case 'token':
      return toToken;
    case 'string':
      return toString;
    case 'reference':
      return toReference(baseUrl);
    case 'date':
      return toDate;
    case 'number':
      return toNumber;
    case 'quantity':
      return toQuantity;
    case 'uri':
      return toUri;
  }
}
