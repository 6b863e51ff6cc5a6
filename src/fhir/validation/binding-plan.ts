import { capitalize, getDataType, isPrimitiveType } from '@medplum/core';
import type { RequiredValueSet, RequiredValueSets } from './required-valuesets';

/** How a required binding applies to the element's datatype. */
export type BindingKind = 'code' | 'coding' | 'concept';

/** What to do with one JSON property of one FHIR type. */
export interface FieldPlan {
  /** FHIRPath segment: `gender`, or `value.ofType(Quantity)` for a choice type. */
  readonly segment: string;
  /** The required binding to check on the value itself. */
  readonly binding?: { readonly kind: BindingKind; readonly valueSet: RequiredValueSet };
  /** The complex type to descend into (its own bindings, extensions...). */
  readonly plan?: TypePlan;
  /** The value is a resource (`contained`, `Bundle.entry.resource`): dispatch on its resourceType. */
  readonly resource?: boolean;
}

/** JSON property name -> what to do. Properties absent from the map need no work. */
export type TypePlan = ReadonlyMap<string, FieldPlan>;

/** Everything the binding walk needs, compiled once. */
export interface BindingPlans {
  /** Plan per resource type. */
  readonly resources: ReadonlyMap<string, TypePlan>;
  /** Plan per type reached (resources, datatypes, backbone elements such as `PatientContact`). */
  readonly types: ReadonlyMap<string, TypePlan>;
  /** Plan for `_name` primitive-extension objects (type Element: id + extension). */
  readonly element: TypePlan;
  /** Number of (type, property) pairs whose required binding is checked. */
  readonly checked: number;
  /** Element paths with a required binding that cannot be checked (value set not expandable). */
  readonly unchecked: readonly string[];
}

function bindingKind(typeCode: string): BindingKind | undefined {
  if (typeCode === 'Coding') {
    return 'coding';
  }
  if (typeCode === 'CodeableConcept') {
    return 'concept';
  }
  // In R4 only `code` carries required bindings among primitives; any other
  // string primitive would be checked the same way.
  return isPrimitiveType(typeCode) ? 'code' : undefined;
}

/**
 * Compiles, from Medplum's parsed base R4 StructureDefinitions, a map per
 * type of the properties that can hold a required-bound code, or lead to one.
 *
 * Because every complex type has `extension`, and `Extension.value[x]` can be
 * an Identifier, ContactPoint, Quantity..., nearly every complex property is
 * kept; primitive properties without a binding are dropped, so the walk never
 * looks at strings, dates or booleans. Choice types get one entry per JSON
 * name (`valueQuantity`, `valueCodeableConcept`, ...). Plans are shared and
 * may be cyclic (Extension -> Extension), hence the placeholder-first build.
 * @see https://hl7.org/fhir/R4/terminologies.html#required
 * @see https://hl7.org/fhir/R4/formats.html#choice
 */
export function compileBindingPlans(resourceTypes: readonly string[], valueSets: RequiredValueSets): BindingPlans {
  const plans = new Map<string, Map<string, FieldPlan>>();
  const unchecked = new Set<string>();
  let checked = 0;

  const planFor = (type: string): TypePlan => {
    const existing = plans.get(type);
    if (existing) {
      return existing;
    }
    const plan = new Map<string, FieldPlan>();
    plans.set(type, plan);
    fill(type, plan);
    return plan;
  };

  const fill = (type: string, plan: Map<string, FieldPlan>): void => {
    for (const [name, element] of Object.entries(getDataType(type).elements)) {
      const choice = name.endsWith('[x]');
      const base = choice ? name.slice(0, -3) : name;
      const required = element.binding?.strength === 'required' ? element.binding.valueSet : undefined;
      for (const { code } of element.type) {
        const key = choice ? base + capitalize(code) : base;
        const segment = choice ? `${base}.ofType(${code})` : base;
        const field: { -readonly [K in keyof FieldPlan]: FieldPlan[K] } = { segment };
        const kind = required ? bindingKind(code) : undefined;
        if (required && kind) {
          const valueSet = valueSets.get(required);
          if (valueSet) {
            field.binding = { kind, valueSet };
            checked++;
          } else {
            unchecked.add(element.path);
          }
        }
        if (code === 'Resource') {
          field.resource = true;
        } else if (!isPrimitiveType(code)) {
          field.plan = planFor(code);
        }
        if (field.binding || field.resource || field.plan) {
          plan.set(key, field);
        }
      }
    }
  };

  const resources = new Map<string, TypePlan>();
  for (const type of resourceTypes) {
    resources.set(type, planFor(type));
  }
  return { resources, types: plans, element: planFor('Element'), checked, unchecked: [...unchecked].sort() };
}
