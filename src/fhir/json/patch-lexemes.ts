import { applyPatch, Pointer, type Operation } from 'rfc6902';
import { cloneJson, lexemeOf, setLexeme, shiftLexemes } from './lexemes';

/** Where an operation lands: the holder of the member (or array) and the key. */
interface Spot {
  parent: object;
  key: string;
}

function spot(doc: unknown, path: string): Spot | undefined {
  const e = Pointer.fromJSON(path).evaluate(doc);
  return typeof e.parent === 'object' && e.parent !== null ? { parent: e.parent as object, key: e.key } : undefined;
}

/** The index an `add` at `key` of an array inserts at (after the insertion: `-` is the new last one). */
function insertIndex(array: unknown[], key: string): number {
  return key === '-' ? array.length - 1 : Number(key);
}

/** After removing `parent[key]`: forget its text, and move the array's later texts down. */
function removed(at: Spot): void {
  setLexeme(at.parent, at.key, undefined);
  if (Array.isArray(at.parent)) shiftLexemes(at.parent, Number(at.key) + 1, -1);
}

/**
 * After `parent[key]` received `source[sourceKey]` (rfc6902 put a copy made
 * without side-cars there): the original's deep copy with side-cars goes in
 * its place, and the number's text, if it was one, is recorded.
 */
function placed(at: Spot, inserted: boolean, source: object, sourceKey: string): void {
  let key = at.key;
  if (Array.isArray(at.parent) && inserted) {
    const i = insertIndex(at.parent, key);
    shiftLexemes(at.parent, i, 1);
    key = String(i);
  }
  const value = (source as Record<string, unknown>)[sourceKey];
  if (typeof value === 'object' && value !== null) (at.parent as Record<string, unknown>)[key] = cloneJson(value);
  setLexeme(at.parent, key, lexemeOf(source, sourceKey));
}

/**
 * Applies one JSON Patch operation to `doc` in place, as rfc6902 does, and
 * keeps the number texts of lexemes.ts right: those the patch brings (`value`
 * and `from` members), the ones of members it replaces or removes (forgotten),
 * and an array's when elements shift. Returns rfc6902's result: null, or the
 * error of a failed operation.
 * @see https://datatracker.ietf.org/doc/html/rfc6902
 */
export function applyOperation(doc: unknown, op: Operation): Error | null {
  const at = op.op === 'test' ? undefined : spot(doc, op.path);
  const from = op.op === 'move' || op.op === 'copy' ? spot(doc, op.from) : undefined;
  // A moved or copied value, as it was before the operation (with its side-cars).
  const carried = from ? { v: (from.parent as Record<string, unknown>)[from.key], text: lexemeOf(from.parent, from.key) } : undefined;
  const [result] = applyPatch(doc, [op]);
  if (result !== null || !at) return result;
  switch (op.op) {
    case 'add':
      placed(at, true, op, 'value');
      break;
    case 'replace':
      placed(at, false, op, 'value');
      break;
    case 'remove':
      removed(at);
      break;
    case 'copy':
    case 'move': {
      if (op.op === 'move' && from) removed(from);
      const holder = { v: carried?.v };
      if (carried?.text !== undefined) setLexeme(holder, 'v', carried.text);
      placed(at, true, holder, 'v');
      break;
    }
  }
  return null;
}
