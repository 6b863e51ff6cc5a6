import type { IndexEntry } from './index-entry';

/** Above this many entries for one parameter, deduplicate by hashing instead of pairwise. */
const PAIRWISE_MAX = 32;

/**
 * Appends the entries of one parameter, without duplicates. Entries of
 * different parameters never compare equal, so duplicates are only looked
 * for within one parameter's (short) list: pairwise, cheaper than hashing.
 */
export function appendUnique(entries: readonly IndexEntry[], out: IndexEntry[]): void {
  if (entries.length > PAIRWISE_MAX) {
    // A resource with thousands of codings must not cost a quadratic scan.
    const seen = new Set<string>();
    for (const e of entries) {
      const key = entryKey(e);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(e);
      }
    }
    return;
  }
  const start = out.length;
  for (const e of entries) {
    let dup = false;
    for (let i = start; i < out.length && !dup; i++) {
      dup = sameEntry(out[i], e);
    }
    if (!dup) out.push(e);
  }
}

function sameEntry(a: IndexEntry, b: IndexEntry): boolean {
  if (a.kind !== b.kind || a.param !== b.param) {
    return false;
  }
  switch (a.kind) {
    case 'token':
      return b.kind === a.kind && a.code === b.code && a.system === b.system && a.text === b.text;
    case 'string':
      return b.kind === a.kind && a.exact === b.exact;
    case 'reference':
      return b.kind === a.kind && a.ref === b.ref && a.idSystem === b.idSystem && a.idValue === b.idValue;
    case 'date':
      return b.kind === a.kind && a.low === b.low && a.high === b.high;
    case 'number':
      return b.kind === a.kind && a.value === b.value && a.low === b.low && a.high === b.high;
    case 'quantity':
      return b.kind === a.kind && a.value === b.value && a.low === b.low && a.high === b.high && a.system === b.system && a.code === b.code && a.unit === b.unit;
    case 'uri':
      return b.kind === a.kind && a.value === b.value;
    case 'composite':
      return b.kind === a.kind && a.parts.length === b.parts.length && a.parts.every((p, i) => sameEntry(p, b.parts[i]));
  }
}

/** Null-safe key part: `null` must not collide with the code "null". */
const k = (x: string | null): string => (x === null ? '\u0000' : x);

/** A string that is equal exactly for equal entries (same fields as sameEntry). */
function entryKey(e: IndexEntry): string {
  switch (e.kind) {
    case 'token':
      return `${e.param}\u0001t\u0001${k(e.system)}\u0001${k(e.code)}\u0001${k(e.text)}`;
    case 'string':
      return `${e.param}\u0001s\u0001${e.exact}`;
    case 'reference':
      return `${e.param}\u0001r\u0001${k(e.ref)}\u0001${k(e.idSystem)}\u0001${k(e.idValue)}`;
    case 'date':
      return `${e.param}\u0001d\u0001${e.low}\u0001${e.high}`;
    case 'number':
      return `${e.param}\u0001n\u0001${e.value}\u0001${e.low}\u0001${e.high}`;
    case 'quantity':
      return `${e.param}\u0001q\u0001${e.value}\u0001${e.low}\u0001${e.high}\u0001${k(e.system)}\u0001${k(e.code)}\u0001${k(e.unit)}`;
    case 'uri':
      return `${e.param}\u0001u\u0001${e.value}`;
    case 'composite':
      return `${e.param}\u0001c\u0001${e.parts.map(entryKey).join('\u0002')}`;
  }
}
