import { ENTRY_FIELDS, type ScalarEntryKind } from '../../fhir/search/index-entry';
import type { Comparison, EntryPredicate } from '../../fhir/search/plan';
import { COLUMN_OF_FIELD } from './schema';

/**
 * A piece of SQL and the values bound to its `?` placeholders, in order.
 * Plan values only ever travel in `args`; `sql` holds nothing but fixed
 * keywords, table/column names from schema.ts, aliases the compiler made
 * and row limits checked to be integers ({@link limitClause}).
 * @see https://hl7.org/fhir/R4/search.html
 */
export interface Frag {
  sql: string;
  args: unknown[];
}

/** A fragment from text and the values of its placeholders. */
export const frag = (sql: string, ...args: unknown[]): Frag => ({ sql, args });
/** Constant truth values; `and` / `or` recognize them (by identity) and fold them away. */
export const TRUE: Frag = frag('1');
export const FALSE: Frag = frag('0');

/** Concatenates fragments (text and arguments in the same order). */
export function concat(parts: readonly (Frag | string)[], sep = ' '): Frag {
  const sql: string[] = [];
  const args: unknown[] = [];
  for (const p of parts) {
    if (typeof p === 'string') {
      sql.push(p);
    } else {
      sql.push(p.sql);
      args.push(...p.args);
    }
  }
  return { sql: sql.join(sep), args };
}

/**
 * `LIMIT n` with `n` written in the text, not bound: SQLite (3.53, as
 * better-sqlite3 builds it) marks a statement whose LIMIT is a bound
 * parameter for re-preparation whenever that parameter is bound, so a
 * cached statement was compiled again on every run; for a search under the
 * access restriction, compiling costs several times what running does.
 * Only a non-negative safe integer can get here.
 */
export function limitClause(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`A row limit must be a non-negative integer (got ${n})`);
  }
  return `LIMIT ${n}`;
}

/** Conjunction; the empty one is true. Constant operands are folded so plans stay short. */
export function and(parts: readonly Frag[]): Frag {
  if (parts.some((p) => p === FALSE)) return FALSE;
  const live = parts.filter((p) => p !== TRUE);
  if (live.length === 0) return TRUE;
  if (live.length === 1) return live[0];
  return concat(
    live.map((p) => wrap(p)),
    ' AND ',
  );
}

/** Disjunction; the empty one is false. */
export function or(parts: readonly Frag[]): Frag {
  if (parts.some((p) => p === TRUE)) return TRUE;
  const live = parts.filter((p) => p !== FALSE);
  if (live.length === 0) return FALSE;
  if (live.length === 1) return live[0];
  return wrap(concat(live.map(wrap), ' OR '));
}

const wrap = (p: Frag): Frag => (p === TRUE || p === FALSE ? p : { sql: `(${p.sql})`, args: p.args });

/**
 * Membership of a column in a list bound as one JSON array: the SQL text is
 * the same whatever the list's length, so one prepared statement serves all.
 */
/** Lists up to this long are bound as `IN (?, ?, ...)`; longer ones as one JSON array. */
const INLINE_LIST_MAX = 16;

export function inList(column: string, values: readonly unknown[], negate = false): Frag {
  if (values.length === 0) return negate ? TRUE : FALSE;
  if (values.length === 1) return frag(`${column} ${negate ? '<>' : '='} ?`, values[0]);
  // A short list inline: json_each builds a table on every evaluation, which costs more than the
  // comparisons when the check runs per candidate row (access restrictions, codes of a matrix).
  if (values.length <= INLINE_LIST_MAX) {
    return frag(`${column} ${negate ? 'NOT IN' : 'IN'} (${values.map(() => '?').join(', ')})`, ...values);
  }
  return frag(`${column} ${negate ? 'NOT IN' : 'IN'} (SELECT value FROM json_each(?))`, JSON.stringify(values));
}

/** The column that stores `field` of `kind` entries; refuses any name the entry kind does not define. */
export function columnOf(kind: ScalarEntryKind, field: string): string {
  if (!(ENTRY_FIELDS[kind] as readonly string[]).includes(field)) {
    throw new Error(`Search plan names field '${field}', which ${kind} entries do not have`);
  }
  return COLUMN_OF_FIELD[field] ?? field;
}

const OPERATORS = { eq: '=', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

/**
 * The smallest string greater than every string starting with `prefix`
 * (the last code point incremented), or undefined when there is none.
 * SQLite compares TEXT by UTF-8 bytes, i.e. by code point, so
 * `col >= prefix AND col < successor` is exactly "starts with" and can use
 * an index, unlike LIKE (case-insensitive, with `%` and `_` wildcards).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) as number);
  while (cps.length > 0) {
    let last = (cps.pop() as number) + 1;
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
    if (last <= 0x10ffff) {
      return String.fromCodePoint(...cps, last);
    }
  }
  return undefined;
}

/** One comparison on `col`. @see https://hl7.org/fhir/R4/search.html#prefix */
export function comparison(col: string, c: Comparison): Frag {
  switch (c.op) {
    case 'eq':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return frag(`${col} ${OPERATORS[c.op]} ?`, scalar(c));
    case 'startsWith': {
      const prefix = String(scalar(c));
      const upper = prefixSuccessor(prefix);
      if (prefix === '') return frag(`${col} IS NOT NULL`);
      return upper === undefined ? frag(`${col} >= ?`, prefix) : frag(`${col} >= ? AND ${col} < ?`, prefix, upper);
    }
    case 'contains':
      return frag(`instr(${col}, ?) > 0`, String(scalar(c)));
    case 'in':
      return inList(col, Array.isArray(c.value) ? c.value : c.value === undefined ? [] : [c.value]);
    case 'isNull':
      return frag(`${col} IS NULL`);
    case 'notNull':
      return frag(`${col} IS NOT NULL`);
    default:
      throw new Error(`Unknown comparison operator '${(c as Comparison).op}'`);
  }
}

function scalar(c: Comparison): string | number | null {
  if (Array.isArray(c.value)) {
    throw new Error(`Operator '${c.op}' takes one value, not a list`);
  }
  return (c.value as string | number | undefined) ?? null;
}

/**
 * A DNF predicate over the columns of one index row (`alias.column`), or, with
 * `columnFor`, over other columns (lastUpdated).
 */
export function predicate(pred: EntryPredicate, columnFor: (field: string) => string): Frag {
  return or(pred.map((alt) => and(alt.map((c) => comparison(columnFor(c.field), c)))));
}
