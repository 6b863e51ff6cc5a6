/**
 * The outcome of an access decision (DMP-RULES.md § 5, "How a refusal
 * looks"): allow; deny (403: no right to the DMP or to the interaction);
 * hide (404: the caller has a right to the DMP but this resource is hidden,
 * answered exactly as if it did not exist). Each refusal carries a reason
 * code, for the audit trail; reason codes never reach the client's error text
 * for hidden resources.
 */
export type Decision = { effect: 'allow' } | { effect: 'deny'; reason: Reason } | { effect: 'hide'; reason: Reason };

/** Why a request was refused; named once, recorded in audit. */
export const Reason = {
  refusedRole: 'refused-role',
  noClinicalAccess: 'role-reads-no-clinical-data',
  notOwnRecord: 'not-own-record',
  noAuthorisation: 'no-authorisation',
  blocked: 'blocked-by-patient',
  emergencyOpposed: 'emergency-access-opposed',
  dmpClosed: 'dmp-closed',
  unknownPatient: 'unknown-patient',
  label: 'hidden-by-label',
  matrix: 'not-in-profession-matrix',
  notCreator: 'not-the-author',
  notOwnSubmission: 'not-own-submission',
  writeNotAllowed: 'write-not-allowed-for-role',
  labelChangeNotAllowed: 'label-change-not-allowed',
  consentNotAllowed: 'consent-not-allowed',
  scope: 'smart-scope',
  /** The access history (AuditEvents) is read by the patient and the representatives only. */
  historyPatientOnly: 'access-history-patient-only',
  /** Bulk export (DMP-RULES.md § 5, project rule): own DMP only; the administrator, directory and conformance only. */
  bulkExport: 'bulk-export-not-allowed',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export const ALLOW: Decision = { effect: 'allow' };
export const deny = (reason: Reason): Decision => ({ effect: 'deny', reason });
export const hide = (reason: Reason): Decision => ({ effect: 'hide', reason });
