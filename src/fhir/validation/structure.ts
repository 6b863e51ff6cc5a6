import { OperationOutcomeError, isPrimitiveType, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import { passesStructureFastPath } from './fast-structure';
import { withoutLargeBase64 } from './large-base64';

type IssueCode = OperationOutcomeIssue['code'];

/**
 * Medplum labels every structural finding `structure`; clients act on the
 * finer R4 issue types, so the two that matter are recovered from the
 * (stable, pinned 4.5.x) message texts. Invariants keep Medplum's `invariant`.
 * @see https://hl7.org/fhir/R4/valueset-issue-type.html
 */
const CODE_BY_MESSAGE: readonly (readonly [RegExp, IssueCode])[] = [
  [/^Missing required property/, 'required'],
  [
    /^(Invalid JSON type|Invalid \w+ format|String must contain|String cannot be larger|Invalid numeric value|Expected number)/,
    'value',
  ],
];

/**
 * Structure, cardinality, primitive formats and FHIRPath invariants of base
 * R4, by Medplum's `validateResource` (which throws an OperationOutcomeError
 * when it finds an error, and returns warnings otherwise), after a sound
 * fast path that can only say "nothing to report". Never throws:
 * anything unexpected becomes an `exception` issue, so a write fails closed.
 * @see https://hl7.org/fhir/R4/validation.html
 */
export function structuralIssues(original: Resource): OperationOutcomeIssue[] {
  // Large base64 document content is checked on its own (large-base64.ts); the rest of the resource as usual.
  const { resource, issues: base64 } = withoutLargeBase64(original);
  let found: OperationOutcomeIssue[];
  try {
    // Most writes are valid: a walk of the keys present proves it in a
    // fraction of Medplum's time; anything else gets Medplum's exact issues.
    if (base64.length === 0 && passesStructureFastPath(resource)) return [];
    found = [...base64, ...validateResource(resource)];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      const why = err instanceof RangeError ? 'it is nested too deeply' : 'of an internal error';
      return [issue('exception', `The resource could not be validated because ${why}`)];
    }
    found = [...base64, ...(err.outcome.issue ?? [])];
  }
  return found.map((i) => normalize(resource, i));
}

function normalize(resource: Resource, found: OperationOutcomeIssue): OperationOutcomeIssue {
  const text = found.details?.text ?? found.diagnostics ?? '';
  let code = found.code;
  if (code === 'structure') {
    code = CODE_BY_MESSAGE.find(([re]) => re.test(text))?.[1] ?? code;
  }
  const expression = found.expression?.map((e) => (e.includes('[x]') ? resolveChoices(resource, e) : e));
  return { ...found, code, ...(expression ? { expression } : {}) };
}

const SEGMENT = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+|x)\])?$/;

/**
 * Medplum writes choice elements as `Observation.value[x].value`, which is
 * not FHIRPath. The JSON says which type was used (`valueQuantity`), so the
 * path is rewritten as FHIRPath does: `Observation.value.ofType(Quantity).value`.
 * Left unchanged when the resource does not resolve the path.
 * @see https://hl7.org/fhir/R4/fhirpath.html#types
 */
export function resolveChoices(resource: unknown, expression: string): string {
  const parts = expression.split('.');
  const out = [parts[0]];
  let current: unknown = resource;
  for (let i = 1; i < parts.length; i++) {
    const m = SEGMENT.exec(parts[i]);
    const obj = asObject(current);
    if (!m || !obj) {
      return expression;
    }
    const [, name, index] = m;
    let key = name;
    if (index === 'x') {
      const found = Object.keys(obj).find(
        (k) => k.length > name.length && k.startsWith(name) && /[A-Z]/.test(k[name.length]),
      );
      if (!found) {
        return expression;
      }
      key = found;
      const suffix = found.slice(name.length);
      const lower = suffix[0].toLowerCase() + suffix.slice(1);
      out.push(`${name}.ofType(${isPrimitiveType(lower) ? lower : suffix})`);
    } else {
      out.push(parts[i]);
    }
    // A primitive's extensions live in `_name`, read by FHIRPath as `name.extension`.
    let next = obj[key];
    if (i + 1 < parts.length && asObject(next) === undefined && !Array.isArray(next)) {
      next = obj[`_${key}`];
    }
    current = index !== undefined && index !== 'x' && Array.isArray(next) ? next[Number(index)] : next;
  }
  return out.join('.');
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
