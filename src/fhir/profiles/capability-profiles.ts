import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { Conformance } from './conformance';

const OPS = {
  validate: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  expand: 'http://hl7.org/fhir/OperationDefinition/ValueSet-expand',
  'validate-code': 'http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code',
  lookup: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup',
} as const;

/**
 * Adds what the profile work provides to the CapabilityStatement: the DMP
 * profiles each type supports (`supportedProfile`) and the operations.
 * `instantiates` stays empty on purpose: the server does not yet meet any
 * PDSm CapabilityStatement in full (e.g. the Gestionnaire's ITI-65
 * transaction Bundle, ITI-67/68 search parameters and conditional PATCH are
 * not all implemented), and naming one it does not meet would mislead.
 * @see https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.rest.resource.supportedProfile
 */
export function withProfiles(cs: CapabilityStatement, conformance: Conformance): CapabilityStatement {
  const profiles = conformance.supportedProfiles();
  const rest = (cs.rest ?? []).map((r) => ({
    ...r,
    operation: [...(r.operation ?? []), { name: 'validate', definition: OPS.validate }],
    resource: (r.resource ?? []).map((res) => {
      const operation = [...(res.operation ?? [])];
      if (res.type === 'ValueSet') {
        operation.push({ name: 'expand', definition: OPS.expand }, { name: 'validate-code', definition: OPS['validate-code'] });
      }
      if (res.type === 'CodeSystem') {
        operation.push({ name: 'lookup', definition: OPS.lookup });
      }
      const supported = profiles.get(res.type as string);
      return {
        ...res,
        ...(supported ? { supportedProfile: supported } : {}),
        ...(operation.length > 0 ? { operation } : {}),
      };
    }),
  }));
  return { ...cs, rest };
}
