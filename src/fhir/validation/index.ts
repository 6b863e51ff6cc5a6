/**
 * Validation of every write against base FHIR R4: structure, cardinality,
 * primitive formats, invariants and required bindings. Profiles plug in via
 * `ValidateOptions.profiles`.
 * @see https://hl7.org/fhir/R4/validation.html
 */
export { createValidator } from './validator';
export type { ValidateOptions, Validator, ValidatorInfo } from './validator';
