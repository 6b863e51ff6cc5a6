import { evalFhirPathTyped, isPrimitiveType, toTypedValue } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import { checkBinding } from './bindings';
import type { CompiledProfile, ElementNode } from './compile';
import type { ProfileRegistry } from './registry';
import { checkReference, type ResourceScope } from './references';
import { matchesFixed, matchesPattern, sliceFor } from './slicing';

type Json = Record<string, unknown>;

/** Limits nested profile checks (extensions of extensions, referenced profiles) on hostile input. */
const MAX_DEPTH = 24;

/**
 * Validates one resource against one compiled profile, walking the profile's
 * element tree over the JSON: cardinality, choice types, fixed and pattern
 * values, bindings, the profile's own FHIRPath constraints, slicing,
 * extensions by URL against their definitions, and reference targets.
 * @see https://hl7.org/fhir/R4/profiling.html
 * @see https://hl7.org/fhir/R4/validation.html
 */
export class ProfileWalk {
  /** The resource being walked: `#id` references resolve among its contained resources. */
  container: Json;

  constructor(
    readonly registry: ProfileRegistry,
    readonly issues: OperationOutcomeIssue[],
    readonly scope: ResourceScope,
    private readonly depth = 0,
    container?: Json,
  ) {
    this.container = container ?? scope.root;
  }

  resource(profile: CompiledProfile, resource: Json, location: string): void {
    this.container = resource;
    if (resource.resourceType !== profile.type && profile.root.types.length === 0) {
      this.issues.push(issue('invalid', `The profile ${profile.url} is for ${profile.type}, not ${String(resource.resourceType)}`, location));
      return;
    }
    this.value(profile.root, resource, location, profile.type);
  }

  /** Checks one value against its element definition, then its children. */
  value(node: ElementNode, v: unknown, loc: string, typeCode: string | undefined): void {
    if (node.fixed !== undefined && !matchesFixed(v, node.fixed)) {
      this.issues.push(issue('value', `Value must be exactly ${JSON.stringify(node.fixed)}`, loc));
    }
    if (node.pattern !== undefined && !matchesPattern(v, node.pattern)) {
      this.issues.push(issue('value', `Value must match the pattern ${JSON.stringify(node.pattern)}`, loc));
    }
    if (node.binding) {
      checkBinding(this.registry.terminology, node.binding, v, typeCode, loc, this.issues);
    }
    if (typeCode === 'Reference' && isObject(v)) {
      checkReference(this, node, v, loc);
    }
    for (const c of node.constraints) {
      this.constraint(c, v, loc, typeCode);
    }
    if (!isObject(v)) {
      return;
    }
    if (node.children.length > 0) {
      this.children(node, v, loc);
      return;
    }
    // No children in this snapshot: the type's own profile (extensions, profiled datatypes) says more.
    const t = node.types.find((x) => x.code === typeCode) ?? node.types[0];
    const url = t?.profile?.[0] ?? (typeCode === 'Extension' && typeof v.url === 'string' ? v.url : undefined);
    if (url && this.depth < MAX_DEPTH) {
      const nested = this.registry.compile(url);
      if (nested) {
        const inner = new ProfileWalk(this.registry, this.issues, this.scope, this.depth + 1, this.container);
        if (typeof v.resourceType === 'string') {
          inner.resource(nested, v, loc); // a resource in a Bundle entry: its own contained resources
        } else {
          inner.value(nested.root, v, loc, typeCode);
        }
      } else if (typeCode === 'Extension' && url.includes(':') && !url.startsWith('http://hl7.org/fhir/StructureDefinition/')) {
        // Relative urls name the parts of a complex extension, defined by its slices.
        this.issues.push(issue('extension', `Unknown extension ${url}: its definition is not loaded, so its content was not checked`, loc, 'warning'));
      }
    }
  }

  private children(node: ElementNode, obj: Json, loc: string): void {
    for (const child of node.children) {
      const found = collect(child, obj);
      if (found.values.length < child.min) {
        this.issues.push(issue('required', `${child.path}: minimum required = ${child.min}, but only found ${found.values.length}`, `${loc}.${child.name}`));
      }
      if (found.values.length > child.max) {
        this.issues.push(issue('structure', `${child.path}: at most ${child.max} allowed, found ${found.values.length}`, `${loc}.${child.name}`));
      }
      if (found.values.length === 0) {
        // Required slices of an absent element are missing too.
        for (const slice of child.slices) {
          if (slice.min > 0) {
            this.issues.push(issue('required', `${child.path}: slice ${slice.sliceName} requires at least ${slice.min}, found 0`, `${loc}.${child.name}`));
          }
        }
        continue;
      }
      const base = child.choice ? `${loc}.${child.name}.ofType(${found.type})` : `${loc}.${child.name}`;
      if (child.choice && !child.types.some((t) => t.code === found.type)) {
        this.issues.push(issue('structure', `${child.path}: type ${found.type} is not allowed here (allowed: ${child.types.map((t) => t.code).join(', ')})`, base));
        continue;
      }
      const typeCode = child.choice ? found.type : child.types[0]?.code;
      const locs = found.values.map((_, i) => (found.array ? `${base}[${i}]` : base));
      if (child.slicing && child.slices.length > 0) {
        this.sliced(child, found.values, locs, typeCode);
      } else {
        found.values.forEach((v, i) => this.value(child, v, locs[i], typeCode));
      }
    }
  }

  private sliced(node: ElementNode, values: readonly unknown[], locs: string[], typeCode: string | undefined): void {
    const slicing = node.slicing as NonNullable<ElementNode['slicing']>;
    const counts = new Map<ElementNode, number>();
    let lastIndex = -1;
    let unmatchedSeen = false;
    values.forEach((v, i) => {
      const slice = sliceFor(this, node, v, typeCode);
      if (!slice) {
        // A slice is a copy of the sliced element, so matched values are checked against the slice only.
        this.value(node, v, locs[i], typeCode);
        unmatchedSeen = true;
        if (slicing.rules === 'closed') {
          this.issues.push(issue('structure', `${node.path}: this value matches none of the slices (${node.slices.map((s) => s.sliceName).join(', ')}) and the slicing is closed`, locs[i]));
        }
        return;
      }
      counts.set(slice, (counts.get(slice) ?? 0) + 1);
      const index = node.slices.indexOf(slice);
      if (slicing.ordered && index < lastIndex) {
        this.issues.push(issue('structure', `${node.path}: slice ${slice.sliceName} is out of order (the slicing is ordered)`, locs[i]));
      }
      if (slicing.rules === 'openAtEnd' && unmatchedSeen) {
        this.issues.push(issue('structure', `${node.path}: slice ${slice.sliceName} after an unsliced value (the slicing is openAtEnd)`, locs[i]));
      }
      lastIndex = Math.max(lastIndex, index);
      this.value(slice, v, locs[i], typeCode);
    });
    const where = locs[0].replace(/\[\d+\]$/, '');
    for (const slice of node.slices) {
      const n = counts.get(slice) ?? 0;
      if (n < slice.min) {
        this.issues.push(issue('required', `${node.path}: slice ${slice.sliceName} requires at least ${slice.min}, found ${n}`, where));
      }
      if (n > slice.max) {
        this.issues.push(issue('structure', `${node.path}: slice ${slice.sliceName} allows at most ${slice.max}, found ${n}`, where));
      }
    }
  }

  private constraint(c: ElementNode['constraints'][number], v: unknown, loc: string, typeCode: string | undefined): void {
    let ok: boolean;
    try {
      const out = evalFhirPathTyped(c.atom, [toTypedValue(v)], { '%resource': toTypedValue(this.scope.root), '%rootResource': toTypedValue(this.scope.root) });
      ok = out.length === 0 || out.every((t) => t.value === true);
      void typeCode;
    } catch {
      this.issues.push(issue('invariant', `Constraint ${c.key} could not be evaluated: ${c.expression}`, loc, 'warning'));
      return;
    }
    if (!ok) {
      this.issues.push(issue('invariant', `Constraint ${c.key} failed: ${c.human}`, loc, c.severity));
    }
  }

  /** A walker for a nested check (e.g. a referenced resource against a target profile). */
  nested(issues: OperationOutcomeIssue[]): ProfileWalk | undefined {
    return this.depth < MAX_DEPTH ? new ProfileWalk(this.registry, issues, this.scope, this.depth + 1, this.container) : undefined;
  }
}

interface Found {
  readonly values: readonly unknown[];
  readonly array: boolean;
  readonly type?: string;
}

/** An absent element (most of a profile's elements, on any resource): one shared answer, not one per element. */
const NOTHING: Found = { values: [], array: false };

/** The values of one element in a JSON object (an array of them, or one), and the choice type used. */
function collect(child: ElementNode, obj: Json): Found {
  if (child.choice) {
    for (const key of Object.keys(obj)) {
      if (key.length > child.name.length && key.startsWith(child.name) && /[A-Z]/.test(key[child.name.length])) {
        const suffix = key.slice(child.name.length);
        const lower = suffix[0].toLowerCase() + suffix.slice(1);
        const type = isPrimitiveType(lower) ? lower : suffix;
        return { values: [obj[key]], array: false, type };
      }
    }
    return NOTHING;
  }
  const raw = obj[child.name];
  if (raw === undefined || raw === null) {
    return NOTHING;
  }
  return Array.isArray(raw) ? { values: raw, array: true } : { values: [raw], array: false };
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
