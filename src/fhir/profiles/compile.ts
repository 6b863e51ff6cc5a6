import { parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { ElementDefinition, ElementDefinitionSlicingDiscriminator, StructureDefinition } from '@medplum/fhirtypes';

/** One compiled FHIRPath constraint of a profile. */
export interface CompiledConstraint {
  readonly key: string;
  readonly severity: 'error' | 'warning';
  readonly human: string;
  readonly expression: string;
  readonly atom: FhirPathAtom;
}

/** An element of a profile snapshot, as a tree node the validator walks. */
export interface ElementNode {
  readonly id: string;
  readonly path: string;
  /** JSON name stem: `value` for `value[x]`. */
  readonly name: string;
  readonly choice: boolean;
  readonly min: number;
  readonly max: number;
  readonly types: readonly { code: string; profile?: readonly string[]; targetProfile?: readonly string[] }[];
  readonly fixed?: unknown;
  readonly pattern?: unknown;
  readonly binding?: { readonly strength: string; readonly valueSet: string };
  readonly constraints: readonly CompiledConstraint[];
  readonly slicing?: {
    readonly discriminator: readonly ElementDefinitionSlicingDiscriminator[];
    readonly rules: string;
    readonly ordered: boolean;
  };
  readonly sliceName?: string;
  readonly children: ElementNode[];
  readonly slices: ElementNode[];
}

/** A profile compiled once: its root node and where it came from. */
export interface CompiledProfile {
  readonly url: string;
  readonly type: string;
  readonly root: ElementNode;
  /** Nodes by element id, for slicing discriminators. */
  readonly byId: ReadonlyMap<string, ElementNode>;
}

/** Base R4 constraints are checked by the base validator already; profiles only add theirs. */
function isBaseConstraint(source: string | undefined, key: string, baseKeys: ReadonlySet<string>): boolean {
  return (source?.startsWith('http://hl7.org/fhir/StructureDefinition/') ?? false) || baseKeys.has(key);
}

/**
 * Compiles a snapshot into a tree: children by element id, slices under the
 * element they slice, FHIRPath constraints parsed once. Constraints without
 * an expression (ANS "constr-bind-*" notes are prose) are not checkable and
 * are left out.
 * @see https://hl7.org/fhir/R4/elementdefinition.html
 */
export function compileProfile(sd: StructureDefinition, baseKeys: ReadonlySet<string>): CompiledProfile {
  const byId = new Map<string, ElementNode>();
  const elements = sd.snapshot?.element ?? [];
  let root: ElementNode | undefined;
  for (const e of elements) {
    const id = e.id ?? e.path;
    const node = toNode(id, e, baseKeys);
    byId.set(id, node);
    if (!root) {
      root = node;
      continue;
    }
    const lastDot = id.lastIndexOf('.');
    const segment = id.slice(lastDot + 1);
    const colon = segment.indexOf(':');
    if (colon >= 0 && e.sliceName !== undefined) {
      byId.get(`${id.slice(0, lastDot)}.${segment.slice(0, colon)}`)?.slices.push(node);
    } else {
      byId.get(id.slice(0, lastDot))?.children.push(node);
    }
  }
  if (!root) {
    throw new Error(`StructureDefinition ${sd.url} has no snapshot`);
  }
  return { url: sd.url as string, type: sd.type as string, root, byId };
}

function toNode(id: string, e: ElementDefinition, baseKeys: ReadonlySet<string>): ElementNode {
  const last = e.path.slice(e.path.lastIndexOf('.') + 1);
  const choice = last.endsWith('[x]');
  const entries = Object.entries(e);
  const fixed = entries.find(([k]) => k.startsWith('fixed'))?.[1];
  const pattern = entries.find(([k]) => k.startsWith('pattern'))?.[1];
  const constraints: CompiledConstraint[] = [];
  for (const c of e.constraint ?? []) {
    if (!c.expression || isBaseConstraint(c.source, c.key as string, baseKeys)) {
      continue;
    }
    constraints.push({
      key: c.key as string,
      severity: c.severity === 'warning' ? 'warning' : 'error',
      human: c.human ?? c.key ?? '',
      expression: c.expression,
      atom: parseFhirPath(c.expression),
    });
  }
  return {
    id,
    path: e.path,
    name: choice ? last.slice(0, -3) : last,
    choice,
    min: e.min ?? 0,
    max: e.max === undefined || e.max === '*' ? Infinity : Number(e.max),
    types: (e.type ?? []).map((t) => ({ code: t.code as string, profile: t.profile, targetProfile: t.targetProfile })),
    fixed,
    pattern,
    binding: e.binding?.valueSet ? { strength: e.binding.strength as string, valueSet: e.binding.valueSet } : undefined,
    constraints,
    slicing: e.slicing
      ? { discriminator: e.slicing.discriminator ?? [], rules: e.slicing.rules ?? 'open', ordered: e.slicing.ordered ?? false }
      : undefined,
    sliceName: e.sliceName,
    children: [],
    slices: [],
  };
}
