/**
 * The FHIR interactions the service performs, named once. Authorization and
 * audit (DMP-RULES.md § 5, § 8) key on these; the CapabilityStatement lists
 * the REST ones.
 * @see https://hl7.org/fhir/R4/valueset-type-restful-interaction.html
 */
export const Interaction = {
  read: 'read',
  vread: 'vread',
  update: 'update',
  patch: 'patch',
  delete: 'delete',
  history: 'history',
  create: 'create',
  search: 'search',
  /** An extended operation (`$close`, `$validate`, `$expand`, ...). */
  operation: 'operation',
  /** A transaction Bundle as a whole (its entries are recorded as their own interactions). */
  transaction: 'transaction',
} as const;

export type Interaction = (typeof Interaction)[keyof typeof Interaction];
