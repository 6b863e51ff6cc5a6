import {
  UCUM,
  evalFhirPathTyped,
  fhirTypeToJsType,
  isPrimitiveType,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  validationRegexes,
  type FhirPathAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

/**
 * A sound pre-check for the base R4 structural pass: `true` only when
 * Medplum's `validateResource` would find nothing at all (no error, no
 * warning) for this resource, checked in one walk over the JSON keys with
 * plans compiled once per type.
 *
 * Why: Medplum's validator visits every element the schema defines, present
 * or not, and resolves each choice element (`value[x]`: 50 types on an
 * Extension) by trying every type name, so a DocumentReference with a few
 * extensions costs ~800 µs; the same checks driven by the keys actually
 * present cost a fraction. Anything this walk does not reproduce exactly
 * (primitive extensions `_x`, fixed or pattern values, slicing, nested
 * element keys, any finding at all) makes it answer `false`, and the caller
 * runs Medplum's validator for the exact issues. Its findings are never
 * reported: it can only say "nothing to report".
 *
 * What it checks, as Medplum does (pinned 4.5.x): known properties only;
 * one choice type per choice element; arrays where the element repeats and
 * single values where it does not, within min..max; required elements
 * present; no null or empty value; JSON types, string and number rules and
 * format regexes of primitives; the target types of references; and every
 * `error` invariant Medplum evaluates (same skipped keys), by the same
 * FHIRPath engine with the same variables.
 * @see https://hl7.org/fhir/R4/validation.html
 * @see https://hl7.org/fhir/R4/json.html
 */
export function passesStructureFastPath(resource: Resource): boolean {
  const type = (resource as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string' || !isPlainObject(resource)) return false;
  const plan = planOf(type);
  if (!plan) return false;
  const root: TypedValue = { type, value: resource };
  const run: Run = { root, resources: [resource] };
  try {
    return constraintsHold(plan.constraints, root, run) && objectPasses(resource, plan, run);
  } catch {
    return false; // too deep for the stack: Medplum's pass says so properly
  }
}

/** Invariants Medplum never evaluates (validation.ts `skippedConstraintKeys`). */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

/** The JSON type of each primitive: Medplum's own table, so both passes agree. */
const JS_TYPE: Readonly<Record<string, 'string' | 'number' | 'boolean'>> = fhirTypeToJsType;

/**
 * Medplum's exports are getters (its bundle's `__export`): read once here,
 * not on every value of every resource.
 */
const FORMATS: Readonly<Record<string, RegExp | undefined>> = validationRegexes;
const evalTyped = evalFhirPathTyped;
const typedValue = toTypedValue;

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_SD = 'https://medplum.com/fhir/StructureDefinition/';
const MAX_STRING = 1024 * 1024;

interface CompiledConstraint {
  readonly atom: FhirPathAtom;
  /** A native equivalent, for invariants so common that FHIRPath dominates the walk. */
  readonly native?: (value: Record<string, unknown>) => boolean;
}

/**
 * ext-1 on every Extension: FHIRPath resolves `value` by trying each of the
 * 50 `value[x]` type names; the JSON keys say it directly. Used only for the
 * exact expression below (a changed definition falls back to FHIRPath), and
 * only on objects, whose keys the walk then checks against the Extension
 * schema (so a `valueX` key is a real choice type, and arrays are non-empty).
 */
const NATIVE_CONSTRAINTS: Record<string, (value: Record<string, unknown>) => boolean> = {
  'ext-1|extension.exists() != value.exists()': (ext) =>
    Array.isArray(ext.extension) !== hasValueKey(ext),
  // dom-2, dom-4 and dom-5 on every DomainResource. These natives may only answer
  // `true` when FHIRPath would: anything unusual (a non-array `contained`, a
  // `_versionId`, a null) answers `false`, and Medplum's pass then decides.
  'dom-2|contained.contained.empty()': (r) => everyContained(r, (c) => absent(c, 'contained')),
  'dom-4|contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()': (r) =>
    everyContained(r, (c) => metaLacks(c, 'versionId') && metaLacks(c, 'lastUpdated')),
  'dom-5|contained.meta.security.empty()': (r) => everyContained(r, (c) => metaLacks(c, 'security')),
};

/** A `valueX` key (a plain object's own keys: the caller checked it is one). */
function hasValueKey(obj: Record<string, unknown>): boolean {
  for (const k in obj) {
    if (k.length > 5 && k.startsWith('value') && k[5] >= 'A' && k[5] <= 'Z') return true;
  }
  return false;
}

/** True when `resource` has no `contained`, or an array of plain objects that all pass `test`. */
function everyContained(resource: Record<string, unknown>, test: (contained: Record<string, unknown>) => boolean): boolean {
  const contained = resource.contained;
  if (contained === undefined) return true;
  if (!Array.isArray(contained)) return false;
  for (const c of contained) {
    if (!isPlainObject(c) || !test(c)) return false;
  }
  return true;
}

/** No `key` and no primitive extension `_key`: FHIRPath finds nothing there. */
function absent(obj: Record<string, unknown>, key: string): boolean {
  return obj[key] === undefined && obj[`_${key}`] === undefined;
}

/** The resource's `meta` is absent, or a plain object without `key`. */
function metaLacks(resource: Record<string, unknown>, key: string): boolean {
  const meta = resource.meta;
  return absent(resource, 'meta') || (isPlainObject(meta) && absent(meta, key));
}

interface Property {
  readonly element: InternalSchemaElement;
  /** The element key (`value[x]` for `valueString`), to see two types of one choice. */
  readonly elementKey: string;
  /** The type this JSON key holds; `Resource` means "read resourceType". */
  readonly typeCode: string;
  /** `typeCode` is a primitive type (checked by {@link primitivePasses}). */
  readonly primitive: boolean;
  /** The element is a choice (`value[x]`): only one of its types may be present. */
  readonly choice: boolean;
  readonly constraints: readonly CompiledConstraint[];
  /** Reference target types allowed, or undefined when any is (or the profiles are not base ones). */
  readonly targets?: ReadonlySet<string>;
}

interface TypePlan {
  readonly properties: ReadonlyMap<string, Property>;
  /** Required element keys, choice ones (`value[x]`) apart. */
  readonly required: readonly string[];
  readonly requiredChoices: readonly string[];
  readonly constraints: readonly CompiledConstraint[];
}

interface Run {
  readonly root: TypedValue;
  /** The resources being walked, innermost last: FHIRPath's `%resource`. */
  readonly resources: Resource[];
}

/** `null`: this type has something the fast path does not reproduce. */
const plans = new Map<string, TypePlan | null>();

function planOf(type: string): TypePlan | null {
  let plan = plans.get(type);
  if (plan === undefined) {
    const schema = tryGetDataType(type);
    plan = schema ? compile(schema) : null;
    plans.set(type, plan);
  }
  return plan;
}

function compile(schema: InternalTypeSchema): TypePlan | null {
  const properties = new Map<string, Property>();
  const required: string[] = [];
  const requiredChoices: string[] = [];
  for (const [key, element] of Object.entries(schema.elements)) {
    if (key.includes('.') || element.fixed || element.pattern || element.slicing) return null;
    const choice = key.endsWith('[x]');
    if (element.min > 0) (choice ? requiredChoices : required).push(key);
    const constraints = compileConstraints(element.constraints);
    const targets = referenceTargets(element);
    const property = (typeCode: string): Property => ({ element, elementKey: key, typeCode, primitive: isPrimitiveType(typeCode), choice, constraints, targets });
    if (choice) {
      const base = key.slice(0, -3);
      for (const t of element.type) {
        properties.set(base + t.code[0].toUpperCase() + t.code.slice(1), property(t.code));
      }
    } else {
      if (element.type.length !== 1) return null;
      properties.set(key, property(element.type[0].code));
    }
  }
  return { properties, required, requiredChoices, constraints: compileConstraints(schema.constraints) };
}

function compileConstraints(list: InternalSchemaElement['constraints']): CompiledConstraint[] {
  return (list ?? [])
    .filter((c) => c.severity === 'error' && !SKIPPED_CONSTRAINTS.has(c.key))
    .map((c) => ({ atom: parseFhirPath(c.expression), native: NATIVE_CONSTRAINTS[`${c.key}|${c.expression}`] }));
}

/**
 * The resource types a Reference element may point to, as Medplum checks
 * them (a warning otherwise); undefined when it checks nothing.
 */
function referenceTargets(element: InternalSchemaElement): ReadonlySet<string> | undefined {
  const profiles = element.type.find((t) => t.code === 'Reference')?.targetProfile;
  if (!profiles) return undefined;
  const types = new Set<string>();
  for (const p of profiles) {
    if (p === `${HL7_SD}Resource`) return undefined;
    if (p.startsWith(HL7_SD)) types.add(p.slice(HL7_SD.length));
    else if (p.startsWith(MEDPLUM_SD)) types.add(p.slice(MEDPLUM_SD.length));
    else return undefined;
  }
  return types;
}

function objectPasses(obj: Record<string, unknown>, plan: TypePlan, run: Run): boolean {
  // Few objects have a choice element, and one or two at most: an array, made only when needed.
  let choicesSeen: string[] | undefined;
  for (const key in obj) {
    if (key === 'resourceType') continue;
    const property = plan.properties.get(key);
    if (!property) return false; // unknown property, or a primitive extension `_key`
    if (property.choice) {
      choicesSeen ??= [];
      if (choicesSeen.includes(property.elementKey)) return false;
      choicesSeen.push(property.elementKey);
    }
    if (!propertyPasses(obj[key], property, run)) return false;
  }
  for (const key of plan.required) {
    if (obj[key] === undefined) return false;
  }
  for (const key of plan.requiredChoices) {
    if (!choicesSeen?.includes(key)) return false;
  }
  return true;
}

function propertyPasses(value: unknown, property: Property, run: Run): boolean {
  const { element } = property;
  if (element.isArray) {
    if (!Array.isArray(value) || value.length === 0 || value.length < element.min || value.length > element.max) return false;
    for (const item of value) {
      if (!valuePasses(item, property, run)) return false;
    }
    return true;
  }
  if (Array.isArray(value) || element.max < 1) return false;
  return valuePasses(value, property, run);
}

function valuePasses(value: unknown, property: Property, run: Run): boolean {
  if (value === null || value === undefined) return false;
  let type = property.typeCode;
  if (property.primitive) {
    if (!primitivePasses(value, type)) return false;
    return property.constraints.length === 0 || constraintsHold(property.constraints, { type, value }, run);
  }
  if (!isPlainObject(value)) return false;
  const nested = type === 'Resource' ? (value as { resourceType?: unknown }).resourceType : undefined;
  if (type === 'Resource') {
    if (typeof nested !== 'string') return false;
    type = nested;
  }
  const plan = planOf(type);
  if (!plan || !hasKeys(value)) return false;
  if (property.constraints.length > 0 && !constraintsHold(property.constraints, { type, value }, run)) return false;
  if (property.targets && type === 'Reference' && !referenceTargetPasses(value, property.targets)) return false;
  if (nested === undefined) return objectPasses(value, plan, run);
  run.resources.push(value as unknown as Resource);
  try {
    return objectPasses(value, plan, run);
  } finally {
    run.resources.pop();
  }
}

function primitivePasses(value: unknown, type: string): boolean {
  const expected = JS_TYPE[type];
  if (!expected || typeof value !== expected) return false;
  if (expected === 'string') {
    const s = value as string;
    if (s.length > MAX_STRING || s.trim() === '') return false;
    const re = FORMATS[type];
    return !re || re.test(s);
  }
  if (expected === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) return false;
    if ((type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') && !Number.isInteger(n)) return false;
    if (type === 'positiveInt' && n <= 0) return false;
    if (type === 'unsignedInt' && n < 0) return false;
  }
  return true;
}

/** Medplum's reference target check: the type before `/` (or `?`) must be one of the targets. */
function referenceTargetPasses(value: Record<string, unknown>, targets: ReadonlySet<string>): boolean {
  const ref = value.reference;
  if (typeof ref !== 'string' || ref.startsWith('#')) return true;
  const query = ref.indexOf('?');
  const end = query >= 0 ? query : ref.indexOf('/');
  const type = end >= 0 ? ref.slice(0, end) : ref;
  return type === '' || targets.has(type);
}

function constraintsHold(constraints: readonly CompiledConstraint[], value: TypedValue, run: Run): boolean {
  let variables: Record<string, TypedValue> | undefined;
  for (const c of constraints) {
    if (c.native && isPlainObject(value.value)) {
      if (!c.native(value.value)) return false;
      continue;
    }
    variables ??= {
      '%context': value,
      '%ucum': UCUM_VALUE,
      '%resource': typedValue(run.resources[run.resources.length - 1]),
      '%rootResource': run.root,
    };
    try {
      const result = evalTyped(c.atom, [value], variables);
      if (result.length !== 1 || result[0].value !== true) return false;
    } catch {
      return false;
    }
  }
  return true;
}

const UCUM_VALUE = toTypedValue(UCUM);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Non-empty as Medplum's `isPopulated` sees it (an object with a `length` key is judged by it: left to Medplum). */
function hasKeys(v: Record<string, unknown>): boolean {
  if ('length' in v) return false;
  for (const _ in v) return true;
  return false;
}
