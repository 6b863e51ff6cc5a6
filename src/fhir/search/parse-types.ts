/**
 * One search value of one parameter type -> a predicate over the fields of
 * that type's index entries (index-entry.ts). Values arrive still escaped:
 * each parser splits on its own separators first, then unescapes.
 * @see https://hl7.org/fhir/R4/search.html#ptypes
 */
import { errors } from '../outcomes';
import { normalizeString } from './index-entry';
import { all, cmp, numberPredicate, numberRange, or, rangePredicate, splitEscaped, splitPrefix, unescapeValue } from './parse-values';
import type { ParamInfo } from './parse-params';
import type { Comparison, EntryPredicate } from './plan';
import { dateRange, normalizeReference } from './values';

/** What value parsing needs from the request. */
export interface ValueContext {
  /** This server's public base, so that absolute references to it match local ones. */
  baseUrl: string;
  /** "Now" in epoch ms, for `ap` on dates. */
  now: number;
}

function nonEmpty(name: string, v: string, what = 'value'): string {
  if (v === '') {
    throw errors.badRequest(`Parameter '${name}' has an empty ${what}`);
  }
  return v;
}

/**
 * string: starts-with on the normalized value by default, `:exact` on the
 * original text, `:contains` anywhere in the normalized value.
 * @see https://hl7.org/fhir/R4/search.html#string
 */
export function stringPredicate(name: string, raw: string, modifier?: 'exact' | 'contains'): EntryPredicate {
  const v = unescapeValue(raw);
  if (modifier === 'exact') {
    return all(cmp('exact', 'eq', nonEmpty(name, v)));
  }
  const n = nonEmpty(name, normalizeString(v));
  return all(cmp('value', modifier === 'contains' ? 'contains' : 'startsWith', n));
}

/**
 * `[system]|[code]` forms shared by token and `:identifier`: `code` (any
 * system), `system|code`, `|code` (no system), `system|` (any code).
 * @see https://hl7.org/fhir/R4/search.html#token
 */
function systemCode(name: string, raw: string, sysField: 'system' | 'idSystem', codeField: 'code' | 'idValue'): EntryPredicate {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length === 1) {
    return all(cmp(codeField, 'eq', nonEmpty(name, parts[0])));
  }
  if (parts.length !== 2) {
    throw errors.badRequest(`Parameter '${name}': '${raw}' has more than one unescaped '|' (write '\\|' for a literal bar)`);
  }
  const [system, code] = parts;
  if (system === '' && code === '') {
    throw errors.badRequest(`Parameter '${name}': '|' alone names neither a system nor a code`);
  }
  const out: Comparison[] = [system === '' ? cmp(sysField, 'isNull') : cmp(sysField, 'eq', system)];
  if (code !== '') {
    out.push(cmp(codeField, 'eq', code));
  }
  return [out];
}

/** token value (also `:not`, which negates the whole condition). */
export function tokenPredicate(name: string, raw: string): EntryPredicate {
  return systemCode(name, raw, 'system', 'code');
}

/**
 * token `:text`: starts-with on the normalized display/text, like a string
 * search (the spec leaves the matching to the server).
 */
export function tokenTextPredicate(name: string, raw: string): EntryPredicate {
  return all(cmp('text', 'startsWith', nonEmpty(name, normalizeString(unescapeValue(raw)))));
}

/**
 * Identifier `:of-type`: `typeSystem|typeCode|value`, matched against the
 * `<code>:of-type` entries (system = type system, code = `typeCode|value`).
 * An empty type system means a type coding without system.
 * @see https://hl7.org/fhir/R4/search.html#token
 */
export function ofTypePredicate(name: string, raw: string): EntryPredicate {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length !== 3 || parts[1] === '' || parts[2] === '') {
    throw errors.badRequest(`Parameter '${name}': ':of-type' needs 'typeSystem|typeCode|value', got '${raw}'`);
  }
  const [system, type, value] = parts;
  return all(system === '' ? cmp('system', 'isNull') : cmp('system', 'eq', system), cmp('code', 'eq', `${type}|${value}`));
}

/** Reference `:identifier`: `system|value` on the Reference.identifier. */
export function refIdentifierPredicate(name: string, raw: string): EntryPredicate {
  return systemCode(name, raw, 'idSystem', 'idValue');
}

const BARE_ID = /^[^/:#]+$/;

/**
 * reference: `id` alone matches that id in any allowed target type (or in
 * `typeModifier` only, for `subject:Patient=1`); `Type/id` and absolute URLs
 * are normalized like stored references (this server's base stripped,
 * `_history` and canonical `|version` dropped).
 * @see https://hl7.org/fhir/R4/search.html#reference
 */
export function referencePredicate(
  ctx: ValueContext,
  info: ParamInfo,
  name: string,
  raw: string,
  typeModifier?: string,
): EntryPredicate {
  const v = nonEmpty(name, unescapeValue(raw));
  if (BARE_ID.test(v)) {
    const types = typeModifier ? [typeModifier] : info.targets;
    if (types.length === 0) {
      // Any type may be referenced: match the id of local references of any type.
      return all(cmp('id', 'eq', v));
    }
    return or(types.map((t) => all(cmp('ref', 'eq', `${t}/${v}`))));
  }
  const n = normalizeReference(v, ctx.baseUrl);
  if (!n) {
    throw errors.badRequest(`Parameter '${name}': '${v}' is not a searchable reference`);
  }
  if (typeModifier && n.type !== typeModifier) {
    throw errors.badRequest(`Parameter '${name}': '${v}' is not a reference to a ${typeModifier}`);
  }
  return all(cmp('ref', 'eq', n.ref));
}

/**
 * date: the value's precision gives a range, compared with the entry's
 * range per prefix (see rangePredicate). A `+` of a time zone that was
 * decoded to a space (unencoded `+` in a query string) is restored.
 * @see https://hl7.org/fhir/R4/search.html#date
 */
export function datePredicate(ctx: ValueContext, name: string, raw: string): EntryPredicate {
  const { prefix, rest } = splitPrefix(name, unescapeValue(raw));
  const v = rest.replace(/ (\d{2}:\d{2})$/, '+$1');
  const r = dateRange(v);
  if (!r) {
    throw errors.badRequest(`Parameter '${name}': '${rest}' is not a valid date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm])`);
  }
  return rangePredicate(prefix, r.low, r.high, ctx.now);
}

/** number: prefixed value with its precision range. @see https://hl7.org/fhir/R4/search.html#number */
export function numberValuePredicate(name: string, raw: string): EntryPredicate {
  const { prefix, rest } = splitPrefix(name, unescapeValue(raw));
  return numberPredicate(prefix, numberRange(name, rest));
}

/**
 * quantity: `[prefix]number`, `[prefix]number|system|code` (both must match),
 * `[prefix]number||unit` (matches the code or the unit, any system). No unit
 * conversion: `5000|http://unitsofmeasure.org|mg` does not find `5 g`.
 * @see https://hl7.org/fhir/R4/search.html#quantity
 */
export function quantityPredicate(name: string, raw: string): EntryPredicate {
  const parts = splitEscaped(raw, '|');
  if (parts.length !== 1 && parts.length !== 3) {
    throw errors.badRequest(`Parameter '${name}': '${raw}' is not 'number', 'number|system|code' or 'number||code'`);
  }
  const { prefix, rest } = splitPrefix(name, unescapeValue(parts[0]));
  const value = numberPredicate(prefix, numberRange(name, rest));
  if (parts.length === 1) {
    return value;
  }
  const system = unescapeValue(parts[1]);
  const code = unescapeValue(parts[2]);
  const unit: Comparison[][] = [];
  if (system !== '' && code !== '') {
    unit.push([cmp('system', 'eq', system), cmp('code', 'eq', code)]);
  } else if (system !== '') {
    unit.push([cmp('system', 'eq', system)]);
  } else if (code !== '') {
    unit.push([cmp('code', 'eq', code)], [cmp('unit', 'eq', code)]);
  } else {
    unit.push([]);
  }
  return value.flatMap((v) => unit.map((u) => [...v, ...u]));
}

/** The URL and each of its parent paths, down to scheme://authority. */
function uriAncestors(v: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.exec(v);
  const out = [v];
  if (!m) {
    return out;
  }
  let cur = v.replace(/\/+$/, '');
  while (cur.length > m[0].length) {
    out.push(cur);
    cur = cur.slice(0, cur.lastIndexOf('/'));
  }
  out.push(m[0]);
  return [...new Set(out)];
}

/**
 * uri: exact match; `:below` = the stored value starts with the search
 * value; `:above` = the stored value is the search URL or one of its parent
 * paths (`http://a.org/fhir/ValueSet/1` is above-matched by `http://a.org/fhir`).
 * @see https://hl7.org/fhir/R4/search.html#uri
 */
export function uriPredicate(name: string, raw: string, modifier?: 'above' | 'below'): EntryPredicate {
  const v = nonEmpty(name, unescapeValue(raw));
  if (modifier === 'below') {
    return all(cmp('value', 'startsWith', v));
  }
  if (modifier === 'above') {
    const list = uriAncestors(v);
    return all(list.length === 1 ? cmp('value', 'eq', v) : cmp('value', 'in', list));
  }
  return all(cmp('value', 'eq', v));
}

/** The unmodified predicate of any scalar parameter type (also used for composite parts). */
export function valuePredicate(ctx: ValueContext, info: ParamInfo, name: string, raw: string): EntryPredicate {
  switch (info.type) {
    case 'string':
      return stringPredicate(name, raw);
    case 'token':
      return tokenPredicate(name, raw);
    case 'reference':
      return referencePredicate(ctx, info, name, raw);
    case 'date':
      return datePredicate(ctx, name, raw);
    case 'number':
      return numberValuePredicate(name, raw);
    case 'quantity':
      return quantityPredicate(name, raw);
    case 'uri':
      return uriPredicate(name, raw);
    default:
      throw errors.badRequest(`Parameter '${name}' of type ${info.type} cannot be used here`);
  }
}
