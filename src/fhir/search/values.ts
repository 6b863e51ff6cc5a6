/**
 * Value normalizations shared by index extraction (stored values) and search
 * parsing (query values). Both sides must agree to the character, so they
 * live here once.
 */

/** `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a dateTime/instant with optional seconds, fraction and zone. */
const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The implicit range of a FHIR date / dateTime / instant, as epoch ms, both
 * ends inclusive: `2020` covers the whole year, `2020-03-04T10:00` the whole
 * minute, `2020-03-04T10:00:00.123Z` one millisecond. A value without a zone
 * is read as UTC (the server's zone; FHIR leaves it to the server). Returns
 * undefined for anything that is not such a value, or an impossible date.
 * @see https://hl7.org/fhir/R4/search.html#date
 */
export function dateRange(value: string): { low: number; high: number } | undefined {
  const m = DATE_RE.exec(value);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo);
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined) {
    const dim = new Date(Date.UTC(year, month as number, 0)).getUTCDate();
    if (day < 1 || day > dim) return undefined;
  }
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59))) return undefined;

  let offsetMs = 0;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 14 || zm > 59) return undefined;
    offsetMs = sign * (zh * 60 + zm) * 60000;
  }
  const utc = (yy: number, mm: number, dd: number, hh: number, mn: number, ss: number, ms: number) => {
    if (yy >= 100) {
      return Date.UTC(yy, mm, dd, hh, mn, ss, ms) - offsetMs;
    }
    // Date.UTC reads years 0-99 as 1900-1999. Compute 2000 years later (same
    // leap years, since 2000 is a multiple of 400), then shift back.
    const date = new Date(Date.UTC(yy + 2000, mm, dd, hh, mn, ss, ms));
    date.setUTCFullYear(date.getUTCFullYear() - 2000);
    return date.getTime() - offsetMs;
  };
  if (month === undefined) {
    return { low: utc(year, 0, 1, 0, 0, 0, 0), high: utc(year + 1, 0, 1, 0, 0, 0, 0) - 1 };
  }
  if (day === undefined) {
    return { low: utc(year, month - 1, 1, 0, 0, 0, 0), high: utc(year, month, 1, 0, 0, 0, 0) - 1 };
  }
  if (h === undefined) {
    return { low: utc(year, month - 1, day, 0, 0, 0, 0), high: utc(year, month - 1, day + 1, 0, 0, 0, 0) - 1 };
  }
  const hour = Number(h);
  const minute = Number(mi);
  if (s === undefined) {
    const low = utc(year, month - 1, day, hour, minute, 0, 0);
    return { low, high: low + 60000 - 1 };
  }
  const second = Number(s);
  if (frac === undefined) {
    const low = utc(year, month - 1, day, hour, minute, second, 0);
    return { low, high: low + 1000 - 1 };
  }
  // Precision beyond the millisecond cannot be stored: round the range to whole ms.
  const digits = Math.min(frac.length, 3);
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const low = utc(year, month - 1, day, hour, minute, second, ms);
  return { low, high: low + 10 ** (3 - digits) - 1 };
}

/** A normalized reference target (see ReferenceEntry in index-entry.ts). */
export interface NormalizedReference {
  ref: string;
  type: string | null;
  id: string | null;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPE_RE = /^[A-Z][A-Za-z]+$/;

/**
 * Normalizes a reference string the way it is indexed and searched:
 * `Type/id`, `Type/id/_history/v` and `{baseUrl}/Type/id[/_history/v]` become
 * `Type/id` (local); other absolute URLs stay whole, except that a canonical's
 * `|version` is dropped (before the local check, so `Questionnaire/q1|2` is
 * local); contained (`#id`) and conditional (`Type?query`) references name no
 * resource and are not indexable (undefined).
 * @see https://hl7.org/fhir/R4/references.html
 */
export function normalizeReference(reference: string, baseUrl: string): NormalizedReference | undefined {
  let ref = reference.trim();
  // Contained (#id) and conditional (Type?query) references name no resource.
  if (ref === '' || ref.startsWith('#') || ref.includes('?')) {
    return undefined;
  }
  // A canonical's |version goes first, so Questionnaire/q1|2 is the local Questionnaire/q1.
  const bar = ref.indexOf('|');
  if (bar > 0) {
    ref = ref.slice(0, bar);
  }
  const base = baseUrl.replace(/\/+$/, '');
  if (ref.startsWith(base + '/')) {
    ref = ref.slice(base.length + 1);
  }
  const parts = ref.split('/');
  if ((parts.length === 2 || (parts.length === 4 && parts[2] === '_history')) && TYPE_RE.test(parts[0]) && ID_RE.test(parts[1])) {
    return { ref: `${parts[0]}/${parts[1]}`, type: parts[0], id: parts[1] };
  }
  return { ref, type: null, id: null };
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * The implicit range [low, high) of a decimal written `text`: its value
 * plus or minus half a unit of its last significant digit. `100` is
 * [99.5, 100.5), `100.00` is [99.995, 100.005), `1e2` (one significant
 * figure) is [50, 150), `1.50` is [1.495, 1.505). Computed in decimal
 * (BigInt mantissa) and converted once, so `0.3` gives exactly the doubles
 * 0.25 and 0.35; a search value and a stored value written alike get the
 * same doubles. R4 prints [95, 105) for `1e2`, which contradicts its own
 * "1 significant figure"; R5 corrected it to [50, 150), which is what this
 * implements. Undefined when `text` is not a finite decimal.
 * @see https://hl7.org/fhir/R4/search.html#number
 */
export function decimalRange(text: string): { low: number; high: number } | undefined {
  const m = DECIMAL_RE.exec(text);
  const intPart = m?.[2] ?? '';
  const frac = m?.[3] ?? '';
  if (!m || intPart + frac === '' || !Number.isFinite(Number(text))) return undefined;
  const mantissa = BigInt(intPart + frac || '0');
  // value = ±mantissa × 10^-scale; the half unit of the last digit is 5 × 10^-(scale+1).
  const scale = frac.length - Number(m[4] ?? 0);
  const exp = `e${-(scale + 1)}`;
  const a = Number(`${mantissa * 10n - 5n}${exp}`);
  const b = Number(`${mantissa * 10n + 5n}${exp}`);
  return m[1] === '-' ? { low: -b, high: -a } : { low: a, high: b };
}

/**
 * A stored number's index fields (index-entry.ts): the value and the
 * implicit range of its text as stored (`1.50`: [1.495, 1.505); without a
 * recorded text, `String(value)`'s).
 * @see https://hl7.org/fhir/R4/search.html#number
 */
export function numberFields(value: number, text: string | undefined): { value: number; low: number; high: number } {
  const r = decimalRange(text ?? String(value)) ?? { low: value, high: value };
  return { value, low: r.low, high: r.high };
}
