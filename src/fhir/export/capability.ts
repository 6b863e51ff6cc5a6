/**
 * `$everything` and the Bulk Data `$export` operations as the
 * CapabilityStatement declares them (rest.operation for the system level,
 * rest.resource.operation for Patient and Group).
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/OperationDefinition-export.html
 * @see https://hl7.org/fhir/R4/patient-operation-everything.html
 */
const EXPORT = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';

export const EXPORT_OPERATIONS = {
  system: [
    { name: 'export', definition: `${EXPORT}/export`, documentation: 'GET [base]/$export (Prefer: respond-async): the administrator only, directory and conformance types only (DMP-RULES.md § 5).' },
  ],
  Patient: [
    {
      name: 'everything',
      definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
      documentation: 'GET Patient/{id}/$everything (_type, _since, _count, paging): the R4 Patient compartment and the directory resources it references, restricted like a search.',
    },
    {
      name: 'export',
      definition: `${EXPORT}/patient-export`,
      documentation: 'GET Patient/{id}/$export (Prefer: respond-async; _type, _since, _typeFilter, _outputFormat=application/fhir+ndjson): the patient and the legal representatives, own DMP only. Patient/$export is refused (403).',
    },
  ],
  Group: [{ name: 'export', definition: `${EXPORT}/group-export`, documentation: 'GET Group/{id}/$export: refused for everyone (403): nobody bulk-exports other patients\' records.' }],
};
