import type { OperationOutcome, OperationOutcomeIssue, Parameters, ParametersParameter, Resource, ValueSet } from '@medplum/fhirtypes';
import { errors, issue, outcome } from '../outcomes';
import { implicitDmpProfile, validateAgainstProfiles } from './index';
import type { ProfileRegistry } from './registry';

/** The base R4 validator the server already has (src/fhir/validation). */
export interface BaseValidator {
  validate(resource: Resource): OperationOutcomeIssue[];
}

/** Options of the profile layer. */
export interface ProfileValidationOptions {
  /** Validate DMP resource types against their DMP profile even without meta.profile (VALIDATE_DMP_PROFILES). */
  readonly implicit: boolean;
}

/** `$validate` modes. @see https://hl7.org/fhir/R4/valueset-resource-validation-mode.html */
export const VALIDATE_MODES = ['create', 'update', 'delete'] as const;
export type ValidateMode = (typeof VALIDATE_MODES)[number];

/**
 * The profiles a resource is checked against: every `meta.profile`, plus its
 * DMP profile when implicit validation is on (see implicitDmpProfile).
 */
export function profilesFor(resource: Resource, implicit: boolean, extra: readonly string[] = []): string[] {
  const declared: unknown = resource.meta?.profile;
  // Garbage in meta.profile is the base validator's to report; only strings name profiles.
  const named = [...(Array.isArray(declared) ? declared.filter((p): p is string => typeof p === 'string') : []), ...extra];
  if (implicit) {
    const own = implicitDmpProfile(resource as unknown as { resourceType: string });
    if (own) {
      named.push(own);
    }
  }
  return [...new Set(named)];
}

/**
 * Base R4 plus profiles: what writes and `$validate` both run, so that a
 * resource `$validate` accepts is one a create accepts.
 * @see https://hl7.org/fhir/R4/validation.html
 */
export function validateWithProfiles(
  base: BaseValidator,
  registry: ProfileRegistry,
  resource: Resource,
  options: ProfileValidationOptions,
  extra: readonly string[] = [],
): OperationOutcomeIssue[] {
  const baseIssues = base.validate(resource);
  if (baseIssues.some((i) => i.code === 'not-supported' && i.expression?.[0] === 'resourceType')) {
    return baseIssues;
  }
  try {
    return [...baseIssues, ...validateAgainstProfiles(registry, resource, profilesFor(resource, options.implicit, extra))];
  } catch {
    // Only pathological input (nesting deep enough to exhaust the stack) gets here: fail closed, as a 400.
    return [...baseIssues, issue('exception', 'The resource could not be checked against its profiles (it is nested too deeply)')];
  }
}

/**
 * The validator FhirService's write path uses: base R4 and profiles. The
 * writer refuses on errors (400 with all issues); warnings, such as an
 * unknown profile in meta.profile, go back with `Prefer: return=OperationOutcome`.
 */
export function writeValidator(base: BaseValidator, registry: ProfileRegistry, options: ProfileValidationOptions): BaseValidator {
  return { validate: (resource) => validateWithProfiles(base, registry, resource, options) };
}

/** What `$validate` was asked. */
export interface ValidateRequest {
  readonly type: string;
  readonly resource?: unknown;
  readonly profile?: string;
  readonly mode?: string;
}

/**
 * `$validate`: an OperationOutcome, never a store write. `mode=delete` with
 * no resource has nothing to check; the access engineer's rules decide
 * whether deleting is allowed.
 * @see https://hl7.org/fhir/R4/resource-operation-validate.html
 */
export function runValidate(base: BaseValidator, registry: ProfileRegistry, options: ProfileValidationOptions, req: ValidateRequest): OperationOutcome {
  if (req.mode !== undefined && !(VALIDATE_MODES as readonly string[]).includes(req.mode)) {
    throw errors.badRequest(`mode must be one of ${VALIDATE_MODES.join(', ')}`, 'mode');
  }
  if (req.resource === undefined) {
    if (req.mode === 'delete') {
      return outcome(issue('informational', 'Nothing to validate for a delete', undefined, 'information'));
    }
    throw errors.badRequest('$validate needs a resource (the request body, or the "resource" parameter)');
  }
  const r = req.resource as Resource;
  if (typeof r !== 'object' || r === null || Array.isArray(r) || r.resourceType !== req.type) {
    throw errors.badRequest(`The resource to validate must be a ${req.type}`, 'resourceType');
  }
  if (req.mode === 'update' && !r.id) {
    return outcome(issue('required', 'An update needs the resource id', `${req.type}.id`));
  }
  const issues = validateWithProfiles(base, registry, r, options, req.profile ? [req.profile] : []);
  return outcome(...(issues.length > 0 ? issues : [issue('informational', 'No issues found', undefined, 'information')]));
}

/** `Parameters` as name -> values, from a POST body. */
export function parametersOf(body: unknown): Map<string, ParametersParameter[]> {
  const out = new Map<string, ParametersParameter[]>();
  for (const p of (body as Parameters).parameter ?? []) {
    if (typeof p?.name === 'string') {
      out.set(p.name, [...(out.get(p.name) ?? []), p]);
    }
  }
  return out;
}

/** A primitive parameter's value whatever its type (valueUri, valueCode, valueString...). */
export function primitiveOf(p: ParametersParameter | undefined): string | undefined {
  if (!p) {
    return undefined;
  }
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('value') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
      return String(v);
    }
  }
  return undefined;
}

export type { ValueSet };
