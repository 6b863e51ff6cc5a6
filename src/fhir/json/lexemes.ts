/**
 * The original text of JSON numbers that `JSON.parse` would not give back.
 *
 * FHIR decimals keep their significant digits: `1.50` is not `1.5`, and a
 * server must return a decimal as it was sent. JavaScript numbers cannot
 * carry that, so the text of such a number (`1.50`, `0.0010`, `1e2`, `-0.0`,
 * `3.14159265358979323846`) rides next to it: the object or array holding
 * the number has a side-car under the {@link LEXEMES} symbol, mapping the
 * member name (or array index) to the text. The value itself stays a plain
 * number, so validation, FHIRPath, search extraction and access rules read
 * it unchanged; `JSON.stringify`, BSON and every other serializer ignore
 * symbol keys. Only numbers whose text differs from `String(value)` get an
 * entry: the common case carries nothing.
 *
 * A side-car entry is used only while the member still holds the number its
 * text denotes, so a value changed by code unaware of lexemes falls back to
 * the number's own text instead of an old one.
 * @see https://hl7.org/fhir/R4/datatypes.html#decimal
 * @see https://hl7.org/fhir/R4/json.html#primitive
 */
export const LEXEMES: unique symbol = Symbol('json.lexemes');

/** A JSON object or array with its side-car of number texts. */
type Holder = Record<string | symbol, unknown> & { [LEXEMES]?: Record<string, string> };

/** True when `text` is not what `String(Number(text))` gives back. */
export function isExoticNumber(text: string): boolean {
  const n = text.length;
  if (n <= 15) {
    // Short integers (no fraction, exponent or -0) are always their own text.
    let i = text.charCodeAt(0) === 45 ? 1 : 0;
    let digits = true;
    for (; i < n && digits; i++) {
      const c = text.charCodeAt(i);
      digits = c >= 48 && c <= 57;
    }
    if (digits && text !== '-0') return false;
  }
  return String(Number(text)) !== text;
}

/** The text recorded for `holder[key]`, when it still denotes the value held there. */
export function lexemeOf(holder: unknown, key: string | number): string | undefined {
  if (typeof holder !== 'object' || holder === null) return undefined;
  const h = holder as Holder;
  const text = h[LEXEMES]?.[key];
  if (text === undefined) return undefined;
  return Object.is(Number(text), h[key]) ? text : undefined;
}

/** The text of the number at `holder[key]`: the recorded one, or the number's own. */
export function numberText(holder: unknown, key: string | number, value: number): string {
  return lexemeOf(holder, key) ?? String(value);
}

/** Records (or, with undefined, forgets) the text of `holder[key]`. */
export function setLexeme(holder: object, key: string | number, text: string | undefined): void {
  const h = holder as Holder;
  if (text !== undefined) {
    // A fresh side-car when a copy shares its original's (object spread copies symbol keys).
    h[LEXEMES] = { ...h[LEXEMES], [key]: text };
  } else if (h[LEXEMES]?.[key] !== undefined) {
    const { [key]: _gone, ...rest } = h[LEXEMES];
    h[LEXEMES] = rest;
  }
}

/**
 * Moves the array side-car's entries at index `from` and above by `delta`
 * (an insertion: +1, a removal: -1, after removing the removed one's entry).
 */
export function shiftLexemes(array: unknown[], from: number, delta: number): void {
  const side = (array as unknown as Holder)[LEXEMES];
  if (!side) return;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(side)) {
    const i = Number(k);
    out[i >= from ? i + delta : i] = v;
  }
  (array as unknown as Holder)[LEXEMES] = out;
}

/** True when some object or array inside `value` has a side-car. */
export function hasLexemes(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Holder)[LEXEMES] !== undefined) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === 'object' && v !== null && hasLexemes(v)) return true;
    return false;
  }
  for (const k in value) {
    const v = (value as Holder)[k];
    if (typeof v === 'object' && v !== null && hasLexemes(v)) return true;
  }
  return false;
}

/**
 * A deep copy of JSON data, side-cars included (structuredClone and most
 * clone helpers drop symbol keys). Iterative: any nesting depth is safe (a
 * hostile body nested 20,000 levels deep is refused later, as a 400, not
 * here with a stack overflow).
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const root = emptyLike(value as Holder);
  const todo: [Holder, Holder][] = [[value as Holder, root]];
  for (let pair = todo.pop(); pair; pair = todo.pop()) {
    const [from, to] = pair;
    for (const k of Object.keys(from)) {
      let v = from[k];
      if (typeof v === 'object' && v !== null) {
        const copy = emptyLike(v as Holder);
        todo.push([v as Holder, copy]);
        v = copy;
      }
      if (k === '__proto__') Object.defineProperty(to, k, { value: v, enumerable: true, writable: true, configurable: true });
      else to[k] = v;
    }
  }
  return root as T;
}

/** An empty array (of the same length) or object, with a copy of the side-car. */
function emptyLike(value: Holder): Holder {
  const out = (Array.isArray(value) ? new Array(value.length) : {}) as Holder;
  const side = value[LEXEMES];
  if (side) out[LEXEMES] = { ...side };
  return out;
}
