/**
 * The codes the DMP access rules key on, defined once (DMP-RULES.md § 4, § 5,
 * § 7). Systems are the ANS ones published in shared/reference/codesystems.
 * @see https://hl7.org/fhir/R4/security-labels.html
 */

/** TRE_A07: document visibility. */
export const VISIBILITY_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';

export const Label = {
  /** Hidden from professionals but the author and the médecin traitant. */
  maskedFromProfessionals: 'MASQUE_PS',
  /** Hidden from the patient and the legal representatives. */
  invisibleToPatient: 'INVISIBLE_PATIENT',
  /** Hidden from the legal representatives of a minor. */
  invisibleToRepresentatives: 'INVISIBLE_REPRESENTANTS_LEGAUX',
} as const;
export type Label = (typeof Label)[keyof typeof Label];
export const LABELS: readonly string[] = Object.values(Label);

/** RPPS identifiers of professionals. */
export const RPPS_SYSTEM = 'https://rpps.esante.gouv.fr';

/** TRE_R248: access modes (purpose of use). */
export const ACCESS_MODE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces';
export const EMERGENCY_PURPOSES = ['bris_de_glace', 'centre_15'] as const;
export type EmergencyPurpose = (typeof EMERGENCY_PURPOSES)[number];

/** INS identifier systems (NIR, NIA, test, demo): one Patient per value. */
export const INS_SYSTEMS: readonly string[] = [
  'urn:oid:1.2.250.1.213.1.4.8',
  'urn:oid:1.2.250.1.213.1.4.9',
  'urn:oid:1.2.250.1.213.1.4.10',
  'urn:oid:1.2.250.1.213.1.4.11',
];

/** Canonical base of what this server defines itself (extensions, naming systems). */
export const DMP_BASE = 'https://dmp.example/fhir';

/**
 * `meta.extension` set by the server on create: the principal that created
 * the resource. Authorship rules (delete, replace, MASQUE_PS) use it, never
 * client-supplied fields; a client's value is replaced.
 */
export const CREATOR_EXTENSION = `${DMP_BASE}/StructureDefinition/dmp-creator`;
/** Naming system of non-RPPS principals in the creator extension: `${PRINCIPAL_SYSTEM}/${role}` | sub. */
export const PRINCIPAL_SYSTEM = `${DMP_BASE}/sid/principal`;

/** Patient extension recording the closure of the DMP (`$close`). */
export const CLOSURE_EXTENSION = `${DMP_BASE}/StructureDefinition/dmp-closure`;

/**
 * Synthetic search index entries added to every resource at write time, so
 * that the access restriction can be compiled into the store's query. They
 * are not search parameters: clients cannot name them. Each starts with
 * SYNTHETIC_PARAM_PREFIX (fhir/search/index-entry.ts), so no sort value is
 * stored for them.
 */
export const AccessParam = {
  /** reference: the patients whose DMP holds the resource (R4 Patient compartment). */
  patient: 'dmp-patient',
  /** token: visibility and confidentiality labels (securityLabel and meta.security). */
  label: 'dmp-label',
  /** token: the document type for the matrix (DocumentReference.type, or the category of a structured type). */
  docType: 'dmp-doctype',
  /** token: the creating principal (see CREATOR_EXTENSION). */
  creator: 'dmp-creator',
  /**
   * token: one entry per (patient, document type): code `patientId|docType`,
   * system the visibility labels present as letters (M, P, R, sorted; `-`
   * for none). Lets "in this DMP, of these types, not masked" be one index
   * probe instead of three (the matrix check of every professional's search).
   */
  patientDocType: 'dmp-pdl',
  /**
   * reference: on a DocumentReference, each local Binary its attachments
   * point to (`Binary/id`): finds the documents through which a Binary may be
   * read (access/binary.ts).
   */
  binary: 'dmp-binary',
} as const;

/** The letter of each visibility label in `dmp-pdl` entries. */
export const LABEL_LETTER: Readonly<Record<string, string>> = {
  MASQUE_PS: 'M',
  INVISIBLE_PATIENT: 'P',
  INVISIBLE_REPRESENTANTS_LEGAUX: 'R',
};

/**
 * Pseudo document types of the matrix: resources only the patient side reads
 * (Consents, access history, notifications), types every listed profession
 * reads, and clinical types the matrix does not name.
 */
export const DocType = {
  patientOnly: 'PATIENT_ONLY',
  everyProfession: 'ANY_PROFESSION',
  other: 'OTHER',
} as const;
