import { hasLexemes, isExoticNumber, LEXEMES, lexemeOf } from './lexemes';

/**
 * JSON parsing and serialization that keep the text of numbers (see
 * lexemes.ts): a decimal sent as `1.50` is stored and returned as `1.50`.
 *
 * Parsing is `JSON.parse` (which also decides what is valid JSON) followed by
 * a scan of the text for numbers that `JSON.parse` would not give back; only
 * when there is one is the text parsed again, by the small parser below,
 * which records their texts. Serializing is `JSON.stringify` unless the value
 * carries such texts. So a body without exotic numbers costs one scan more
 * than before, and the stored JSON text holds the exact lexemes: reads send
 * it as is, without parsing.
 * @see https://hl7.org/fhir/R4/json.html#primitive
 * @see https://hl7.org/fhir/R4/datatypes.html#decimal
 */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return hasExoticNumbers(text) ? new LosslessParser(text).parse() : value;
}

/** `JSON.stringify(value, null, indent)`, writing recorded number texts back. */
export function stringifyJson(value: unknown, indent?: number): string {
  if (!hasLexemes(value)) return JSON.stringify(value, null, indent);
  return write(value, '', indent ? ' '.repeat(indent) : '', '') ?? 'null';
}

/**
 * True when a number of the JSON `text` is not its own `String(Number())`.
 * Strings are skipped with indexOf (a base64 attachment costs next to nothing).
 */
export function hasExoticNumbers(text: string): boolean {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i = stringEnd(text, i) + 1;
      if (i === 0) return false;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const j = numberEnd(text, i);
      if (isExoticNumber(text.slice(i, j))) return true;
      i = j;
    } else {
      i++;
    }
  }
  return false;
}

/** Index of the quote closing the string opened at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (text.charCodeAt(b) === 92) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}

/** Index just after the number token starting at `start`. */
function numberEnd(text: string, start: number): number {
  let j = start + 1;
  for (; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (!((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45)) break;
  }
  return j;
}

type Holder = Record<string | symbol, unknown>;

/** Recursive descent over text `JSON.parse` has already accepted. */
class LosslessParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): unknown {
    return this.value(undefined, '');
  }

  private skip(): void {
    let c = this.text.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = this.text.charCodeAt(++this.pos);
  }

  /** The value at the cursor; an exotic number's text goes into `holder`'s side-car under `key`. */
  private value(holder: Holder | undefined, key: string): unknown {
    this.skip();
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === 123) return this.object();
    if (c === 91) return this.array();
    if (c === 34) return this.string();
    if (c === 116) return this.literal(4, true);
    if (c === 102) return this.literal(5, false);
    if (c === 110) return this.literal(4, null);
    const end = numberEnd(t, this.pos);
    const lexeme = t.slice(this.pos, end);
    this.pos = end;
    if (holder && isExoticNumber(lexeme)) {
      holder[LEXEMES] = { ...(holder[LEXEMES] as Record<string, string>), [key]: lexeme };
    }
    return Number(lexeme);
  }

  private literal(length: number, v: boolean | null): boolean | null {
    this.pos += length;
    return v;
  }

  private string(): string {
    const end = stringEnd(this.text, this.pos);
    const raw = this.text.slice(this.pos, end + 1);
    this.pos = end + 1;
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  private object(): Holder {
    const out: Holder = {};
    this.pos++;
    this.skip();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skip();
      const key = this.string();
      this.skip();
      this.pos++; // ':'
      forget(out, key); // a duplicate key: the last one wins, as in JSON.parse
      const v = this.value(out, key);
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.skip();
      if (this.text.charCodeAt(this.pos++) === 125) return out;
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skip();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(out as unknown as Holder, String(out.length)));
      this.skip();
      if (this.text.charCodeAt(this.pos++) === 93) return out;
    }
  }
}

function forget(holder: Holder, key: string): void {
  const side = holder[LEXEMES] as Record<string, string> | undefined;
  if (side?.[key] !== undefined) delete side[key];
}

/**
 * One value as JSON text, as `JSON.stringify` writes it (toJSON honoured;
 * undefined, functions and symbols left out of objects and null in arrays;
 * non-finite numbers null), numbers with a recorded text written as that text.
 */
function write(value: unknown, key: string, gap: string, indent: string, holder?: object): string | undefined {
  let v = value;
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
  }
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? ((holder && lexemeOf(holder, key)) ?? String(v)) : 'null';
    case 'string':
    case 'boolean':
    case 'bigint':
      return JSON.stringify(v);
    case 'object':
      break;
    default:
      return undefined;
  }
  if (v === null) return 'null';
  const inner = indent + gap;
  const open = gap ? `\n${inner}` : '';
  const sep = gap ? `,\n${inner}` : ',';
  const close = gap ? `\n${indent}` : '';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const parts = v.map((x, i) => write(x, String(i), gap, inner, v as object) ?? 'null');
    return `[${open}${parts.join(sep)}${close}]`;
  }
  const parts: string[] = [];
  for (const k of Object.keys(v)) {
    const s = write((v as Holder)[k], k, gap, inner, v as object);
    if (s !== undefined) parts.push(`${JSON.stringify(k)}:${gap ? ' ' : ''}${s}`);
  }
  return parts.length === 0 ? '{}' : `{${open}${parts.join(sep)}${close}}`;
}
