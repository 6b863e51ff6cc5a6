import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { checkBinding } from './bindings';
import type { ElementNode } from './compile';
import type { ProfileWalk } from './walk';

/** `fixed[x]`: the value equals the fixed value exactly (same properties, same order-insensitive content). */
export function matchesFixed(v: unknown, fixed: unknown): boolean {
  return deepEqual(v, fixed);
}

/**
 * `pattern[x]`: every property of the pattern is in the value with the same
 * content; for arrays, each pattern item is matched by some value item.
 * @see https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.pattern_x_
 */
export function matchesPattern(v: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const arr = Array.isArray(v) ? v : [v];
    return pattern.every((p) => arr.some((x) => matchesPattern(x, p)));
  }
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof v !== 'object' || v === null) {
      return false;
    }
    return Object.entries(pattern).every(([k, p]) => matchesPattern((v as Record<string, unknown>)[k], p));
  }
  return v === pattern;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return false;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Values at a simple discriminator path (`system`, `coding.code`, `resource`, `$this`); `resolve()` and functions are not followed. */
function valuesAt(v: unknown, path: string): unknown[] {
  let current: unknown[] = [v];
  if (path === '$this') {
    return current;
  }
  for (const raw of path.split('.')) {
    const seg = raw.replace(/^extension\("([^"]+)"\)$/, 'extension');
    const next: unknown[] = [];
    for (const c of current) {
      if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
        let x = (c as Record<string, unknown>)[seg];
        if (seg === 'extension' && raw !== seg && Array.isArray(x)) {
          const url = /"([^"]+)"/.exec(raw)?.[1];
          x = x.filter((e) => (e as { url?: string })?.url === url);
        }
        if (Array.isArray(x)) {
          next.push(...x);
        } else if (x !== undefined) {
          next.push(x);
        }
      }
    }
    current = next;
  }
  return current;
}

/** The element of a slice at a discriminator path (`Patient.identifier:INS.system`), when the snapshot unfolds it. */
function sliceChild(slice: ElementNode, path: string): ElementNode | undefined {
  let node: ElementNode | undefined = slice;
  if (path === '$this') {
    return slice;
  }
  for (const seg of path.split('.')) {
    node = node?.children.find((c) => c.name === seg.replace(/\(.*$/, ''));
  }
  return node;
}

/** Does one value match one discriminator of a slice? */
function matchesDiscriminator(walk: ProfileWalk, slice: ElementNode, d: { type: string; path: string }, v: unknown, typeCode: string | undefined): boolean {
  const at = valuesAt(v, d.path);
  const child = sliceChild(slice, d.path);
  switch (d.type) {
    case 'value':
    case 'pattern': {
      let expected = child?.fixed ?? child?.pattern;
      if (expected === undefined && d.path === 'url' && slice.types[0]?.profile?.[0]) {
        expected = slice.types[0].profile[0].split('|')[0]; // an extension slice names its extension by profile (url, no version)
      }
      if (expected === undefined) {
        const own = slice.fixed ?? slice.pattern;
        expected = own !== undefined ? valuesAt(own, d.path)[0] : undefined;
      }
      const typeProfile = slice.types[0]?.profile?.[0];
      if (expected === undefined && typeProfile && d.path !== 'url') {
        // The slice is typed by a profile (MHD's UniqueIdIdentifier) that fixes the value itself.
        const root = walk.registry.compile(typeProfile)?.root;
        const inner = root ? sliceChild(root, d.path) : undefined;
        expected = inner?.fixed ?? inner?.pattern;
      }
      const target = d.path === '$this' ? slice : child;
      if (expected === undefined && target?.binding?.strength === 'required') {
        // A required binding discriminates too: the value is in its value set.
        return at.some((x) => {
          const found: OperationOutcomeIssue[] = [];
          checkBinding(walk.registry.terminology, target.binding as NonNullable<ElementNode['binding']>, x, target.types[0]?.code, '', found);
          return found.length === 0;
        });
      }
      if (expected === undefined) {
        // Nothing fixed at the path (FR Core's qualification by code.coding): the value belongs to the slice it conforms to.
        return conformsTo(walk, slice, v, typeCode);
      }
      return at.some((x) => (child?.fixed !== undefined ? matchesFixed(x, expected) : matchesPattern(x, expected)));
    }
    case 'type': {
      const codes = (child ?? slice).types.map((t) => t.code);
      return at.some((x) => {
        const rt = (x as { resourceType?: string })?.resourceType;
        return codes.includes(rt ?? typeCode ?? '');
      });
    }
    case 'profile': {
      const profiles = (child ?? slice).types.flatMap((t) => t.profile ?? []);
      return at.some((x) =>
        profiles.some((p) => {
          const compiled = walk.registry.compile(p);
          const issues: OperationOutcomeIssue[] = [];
          const inner = walk.nested(issues);
          if (!compiled || !inner || typeof x !== 'object' || x === null) {
            return false;
          }
          inner.resource(compiled, x as Record<string, unknown>, 'x');
          return !issues.some((i) => i.severity === 'error');
        }),
      );
    }
    case 'exists': {
      const mustExist = (child?.min ?? 0) > 0;
      const mustNotExist = child?.max === 0;
      return mustExist ? at.length > 0 : mustNotExist ? at.length === 0 : true;
    }
    default:
      return false;
  }
}

/** Does the value meet the slice's own definition (no error)? The fallback when a discriminator fixes nothing. */
function conformsTo(walk: ProfileWalk, slice: ElementNode, v: unknown, typeCode: string | undefined): boolean {
  const issues: OperationOutcomeIssue[] = [];
  walk.nested(issues)?.value(slice, v, 'x', typeCode);
  return !issues.some((i) => i.severity === 'error');
}

/**
 * The slice a value belongs to: the first whose every discriminator matches.
 * @see https://hl7.org/fhir/R4/profiling.html#discriminator
 */
export function sliceFor(walk: ProfileWalk, node: ElementNode, v: unknown, typeCode: string | undefined): ElementNode | undefined {
  const discriminators = node.slicing?.discriminator ?? [];
  if (discriminators.length === 0) {
    return undefined;
  }
  return node.slices.find((s) => discriminators.every((d) => matchesDiscriminator(walk, s, d as { type: string; path: string }, v, typeCode)));
}
