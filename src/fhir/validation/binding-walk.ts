import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import type { BindingPlans, FieldPlan, TypePlan } from './binding-plan';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Walks a resource along the compiled plans and reports every value that is
 * not in the value set of its required binding. Resources nested in
 * `contained`, `Bundle.entry.resource` or `Parameters.parameter.resource` are
 * walked with their own type's plan.
 *
 * The walk trusts nothing: a value of the wrong JSON type is skipped (the
 * structural validator reports it), so odd input never throws here.
 * Paths follow Medplum's style (`Patient.contact[0].gender`,
 * `Bundle.entry[0].resource.gender`), with `value.ofType(Quantity)` for choice
 * types as FHIRPath writes them.
 * @see https://hl7.org/fhir/R4/terminologies.html#required
 */
export class BindingWalk {
  /** How `_name` objects (a primitive's id and extensions) are walked. */
  private readonly primitiveExtension: FieldPlan;

  constructor(
    private readonly plans: BindingPlans,
    private readonly issues: OperationOutcomeIssue[],
  ) {
    this.primitiveExtension = { segment: '', plan: plans.element };
  }

  /** Checks one resource found at `path` (the root resource's path is its type). */
  resource(value: unknown, path: string): void {
    if (!isObject(value)) {
      return;
    }
    const type = value.resourceType;
    const plan = typeof type === 'string' ? this.plans.resources.get(type) : undefined;
    if (!plan) {
      this.issues.push(
        issue(
          typeof type === 'string' ? 'not-supported' : 'required',
          typeof type === 'string' ? `Unknown resource type "${type}"` : 'Missing resourceType',
          path,
        ),
      );
      return;
    }
    this.object(value, plan, path);
  }

  private object(obj: Json, plan: TypePlan, path: string): void {
    for (const key in obj) {
      const field = plan.get(key);
      if (field) {
        this.property(obj[key], field, `${path}.${field.segment}`);
      } else if (key.charCodeAt(0) === 95 /* _ */) {
        // `_gender`: the id/extensions of primitive `gender`, which FHIRPath reads as `gender.extension`.
        this.property(obj[key], this.primitiveExtension, `${path}.${key.slice(1)}`);
      }
    }
  }

  private property(value: unknown, field: FieldPlan, path: string): void {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        this.value(value[i], field, `${path}[${i}]`);
      }
    } else {
      this.value(value, field, path);
    }
  }

  private value(value: unknown, field: FieldPlan, path: string): void {
    if (field.binding) {
      this.binding(value, field.binding, path);
    }
    if (field.resource) {
      this.resource(value, path);
    } else if (field.plan && isObject(value)) {
      this.object(value, field.plan, path);
    }
  }

  private binding(value: unknown, binding: NonNullable<FieldPlan['binding']>, path: string): void {
    const { kind, valueSet } = binding;
    if (kind === 'code') {
      if (typeof value === 'string' && !valueSet.acceptsCode(value)) {
        this.issues.push(
          issue(
            'code-invalid',
            `The code "${value}" is not in the required value set ${valueSet.url}: expected ${valueSet.expected}`,
            path,
          ),
        );
      }
      return;
    }
    if (!isObject(value)) {
      return;
    }
    if (kind === 'coding') {
      if (!valueSet.acceptsCoding(str(value.system), str(value.code))) {
        this.issues.push(
          issue(
            'code-invalid',
            `The coding ${str(value.system) ?? '(no system)'}|${str(value.code) ?? '(no code)'} is not in the required value set ${valueSet.url}: expected ${valueSet.expectedCoding}`,
            path,
          ),
        );
      }
      return;
    }
    // CodeableConcept: conformant when at least one coding is a member; text alone is not enough.
    const codings = Array.isArray(value.coding) ? value.coding.filter(isObject) : [];
    if (codings.some((c) => valueSet.acceptsCoding(str(c.system), str(c.code)))) {
      return;
    }
    const found = codings.map((c) => `${str(c.system) ?? '(no system)'}|${str(c.code) ?? '(no code)'}`);
    this.issues.push(
      issue(
        'code-invalid',
        found.length === 0
          ? `No coding given, but a coding from the required value set ${valueSet.url} is needed: expected ${valueSet.expectedCoding}`
          : `None of the codings (${found.join(', ')}) is in the required value set ${valueSet.url}: expected ${valueSet.expectedCoding}`,
        path,
      ),
    );
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
