import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import type { ElementNode } from './compile';
import type { ProfileWalk } from './walk';

type Json = Record<string, unknown>;

/** What references can resolve to without a database: the resource's contained resources and its Bundle's entries. */
export interface ResourceScope {
  readonly root: Json;
  /** Bundle entries by fullUrl (when validating a Bundle). */
  readonly fullUrls: ReadonlyMap<string, Json>;
}

/** Builds the scope of a resource (a Bundle's entries are indexed by fullUrl). */
export function scopeOf(root: Json): ResourceScope {
  const fullUrls = new Map<string, Json>();
  if (root.resourceType === 'Bundle' && Array.isArray(root.entry)) {
    for (const e of root.entry as Json[]) {
      if (typeof e?.fullUrl === 'string' && typeof e.resource === 'object' && e.resource !== null) {
        fullUrls.set(e.fullUrl, e.resource as Json);
      }
    }
  }
  return { root, fullUrls };
}

/**
 * `targetProfile` of a Reference: the referenced type must be one the
 * element allows; when the target is at hand (contained, `#id`, or an entry
 * of the same Bundle, `urn:uuid:`), it must also conform to a listed
 * profile the server knows.
 * @see https://hl7.org/fhir/R4/references.html#contained
 * @see https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.type.targetProfile
 */
export function checkReference(walk: ProfileWalk, node: ElementNode, ref: Json, loc: string): void {
  const targets = node.types.find((t) => t.code === 'Reference')?.targetProfile ?? [];
  if (targets.length === 0 || targets.some((t) => t.endsWith('/Resource')) || typeof ref.reference !== 'string') {
    return;
  }
  const reference = ref.reference;
  let target: Json | undefined;
  if (reference.startsWith('#')) {
    const contained = (walk.container.contained as Json[] | undefined) ?? [];
    target = contained.find((c) => c?.id === reference.slice(1));
    if (!target) {
      walk.issues.push(issue('not-found', `Reference ${reference} names no contained resource`, `${loc}.reference`));
      return;
    }
  } else {
    target = walk.scope.fullUrls.get(reference);
  }
  const type = (target?.resourceType as string | undefined) ?? /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
  if (!type) {
    return; // a logical or unresolvable reference: nothing to check locally
  }
  const allowed = targets.filter((t) => walk.registry.typeOf(t) === type);
  if (allowed.length === 0) {
    const names = [...new Set(targets.map((t) => walk.registry.typeOf(t) ?? t))].join(', ');
    walk.issues.push(issue('structure', `A reference to ${type} is not allowed here (allowed: ${names})`, `${loc}.reference`));
    return;
  }
  if (!target || allowed.some((t) => t.startsWith('http://hl7.org/fhir/StructureDefinition/'))) {
    return;
  }
  const failures: OperationOutcomeIssue[][] = [];
  for (const profile of allowed) {
    const compiled = walk.registry.compile(profile);
    const issues: OperationOutcomeIssue[] = [];
    const inner = walk.nested(issues);
    if (!compiled || !inner) {
      return;
    }
    inner.resource(compiled, target, reference);
    if (!issues.some((i) => i.severity === 'error')) {
      return;
    }
    failures.push(issues);
  }
  const first = failures[0]?.find((i) => i.severity === 'error');
  walk.issues.push(
    issue('structure', `The referenced ${type} ${reference} does not conform to ${allowed.join(' or ')}: ${first?.details?.text ?? ''}`, `${loc}.reference`),
  );
}
