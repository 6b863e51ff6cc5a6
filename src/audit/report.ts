import type { Parameters } from '@medplum/fhirtypes';
import type { ChainReport } from './verify';

/**
 * A chain verification as the `$verify-audit` answer: `result` (true when
 * whole), `links` checked, and for a broken chain `brokenAt` (position),
 * `reason` and `auditEvent` (the reference of the first broken link).
 * @see https://hl7.org/fhir/R4/parameters.html
 */
export function chainReportParameters(r: ChainReport): Parameters {
  const parameter: NonNullable<Parameters['parameter']> = [
    { name: 'result', valueBoolean: !r.broken },
    { name: 'chain', valueString: r.chain },
    { name: 'links', valueInteger: r.links },
  ];
  if (r.broken) {
    parameter.push({ name: 'brokenAt', valueInteger: r.broken.seq }, { name: 'reason', valueCode: r.broken.reason });
    if (r.broken.reference) parameter.push({ name: 'auditEvent', valueReference: { reference: r.broken.reference } });
  }
  return { resourceType: 'Parameters', parameter };
}
