import { getElementDefinition, type TypedValue } from '@medplum/core';
import { lexemeOf } from '../json/lexemes';
import { requiredBindingSystem } from './extract-bindings';

/**
 * A value found by a search parameter expression: its FHIR type (`code`,
 * `HumanName`, `ObservationComponent`...), the JSON value, and for a `code`
 * the code system its required binding implies (see extract-bindings.ts).
 */
export interface PathValue extends TypedValue {
  readonly system?: string | null;
  /** A number's text as sent, when it is not `String(value)` (`1.50`: fhir/json/lexemes.ts). */
  readonly text?: string;
}

/** A compiled expression: values in, values out. */
export type PathFn = (input: PathValue[]) => PathValue[];

/** A compiled expression with the types it can yield, known at compile time. */
export interface CompiledPath {
  readonly run: PathFn;
  readonly types: readonly string[];
  /**
   * The same path keeping only values of type `name`, by reading only the
   * matching `value[x]` keys: `value.as(Quantity)` reads `valueQuantity`
   * instead of the eleven Observation.value[x] keys then filtering.
   */
  readonly narrow?: (name: string) => CompiledPath;
}

/** Subtypes of Quantity, which `as Quantity` / `ofType(Quantity)` also accept. */
export const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Count', 'Distance', 'Duration', 'SimpleQuantity', 'MoneyQuantity']);

/** A path that can yield nothing for the types it applies to. */
export const DEAD: CompiledPath = { run: () => [], types: [] };

/**
 * Whether a value of FHIR type `type` is a `name`: `Resource` and
 * `DomainResource` (meta.tag...) match every resource, Quantity its profiles,
 * and FHIRPath system type names their FHIR primitive (`DateTime` is
 * `dateTime`, as in Observation code-value-date's `value.as(DateTime)`).
 */
export function matchesType(type: string, name: string): boolean {
  return (
    type === name ||
    name === 'Resource' ||
    name === 'DomainResource' ||
    (name === 'Quantity' && QUANTITY_TYPES.has(type)) ||
    (type.charCodeAt(0) >= 97 && type.length === name.length && type === name.charAt(0).toLowerCase() + name.slice(1))
  );
}

/** One property step: which JSON keys to read for each input type, and what type each yields. */
export function compileProperty(name: string, inTypes: readonly string[]): CompiledPath | undefined {
  const table: ReadTable = new Map();
  for (const inType of inTypes) {
    const el = getElementDefinition(inType, name);
    if (!el?.type?.length) {
      continue;
    }
    const reads: PropertyRead[] = [];
    const choice = el.path.endsWith('[x]');
    for (const t of el.type) {
      const key = choice ? name + t.code.charAt(0).toUpperCase() + t.code.slice(1) : name;
      const system = t.code === 'code' ? requiredBindingSystem(el.binding) : undefined;
      reads.push({ key, type: t.code, system });
      if (!choice) break;
    }
    table.set(inType, reads);
  }
  return table.size === 0 ? undefined : readStep(table);
}

interface PropertyRead {
  key: string;
  type: string;
  system?: string | null;
}

/** Input type -> the JSON keys to read on a value of that type. */
type ReadTable = Map<string, PropertyRead[]>;

function readStep(table: ReadTable): CompiledPath {
  const types = [...new Set([...table.values()].flat().map((r) => r.type))];
  const narrow = (name: string): CompiledPath => {
    const kept: ReadTable = new Map();
    for (const [inType, reads] of table) {
      const matching = reads.filter((r) => matchesType(r.type, name));
      if (matching.length > 0) kept.set(inType, matching);
    }
    return kept.size === 0 ? DEAD : readStep(kept);
  };
  const [[onlyType, onlyReads]] = table;
  if (table.size === 1 && onlyReads.length === 1) {
    // The common case (`Patient.name`): no table lookup or loop per value.
    const read = onlyReads[0];
    return { run: (input) => read1(input, onlyType, read, []), types, narrow };
  }
  const run: PathFn = (input) => {
    const out: PathValue[] = [];
    for (const node of input) {
      const reads = table.get(node.type);
      if (reads) {
        for (const read of reads) read1([node], node.type, read, out);
      }
    }
    return out;
  };
  return { run, types, narrow };
}

/** Appends the values of `read.key` of each `inType` value of `input` to `out`. */
function read1(input: PathValue[], inType: string, read: PropertyRead, out: PathValue[]): PathValue[] {
  for (const node of input) {
    const obj = node.value as Record<string, unknown> | null;
    if (node.type !== inType || typeof obj !== 'object' || obj === null) {
      continue;
    }
    const x = obj[read.key];
    if (x === undefined || x === null) {
      continue;
    }
    if (Array.isArray(x)) {
      x.forEach((e, i) => {
        if (e !== null && e !== undefined) out.push(withText(wrap(read, e), x, i));
      });
    } else {
      out.push(withText(wrap(read, x), obj, read.key));
    }
  }
  return out;
}

/** A decimal keeps the precision of its text for search (values.ts decimalRange). */
function withText(v: PathValue, holder: object, key: string | number): PathValue {
  if (typeof v.value !== 'number') return v;
  const text = lexemeOf(holder, key);
  return text === undefined ? v : { ...v, text };
}

function wrap(read: PropertyRead, value: unknown): PathValue {
  if (read.type === 'Resource') {
    const rt = (value as { resourceType?: unknown }).resourceType;
    return { type: typeof rt === 'string' ? rt : 'Resource', value };
  }
  return read.system === undefined ? { type: read.type, value } : { type: read.type, value, system: read.system };
}
