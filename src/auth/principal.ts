/**
 * Who is calling, as established from a verified access token (DMP-RULES.md
 * § 7, token contract). Token verification comes with the access-control
 * work; until then requests carry no principal.
 * @see https://hl7.org/fhir/R4/security.html
 */
export interface Principal {
  /** Stable id of the user or client (`sub`). */
  sub: string;
  role: Role;
  /** Patient id acted for (patient, representative). */
  patient?: string;
  /** 11-digit RPPS (professional, regulator). */
  rpps?: string;
  /** TRE_G15 profession code (professional). */
  profession?: string;
  purposeOfUse: PurposeOfUse;
  organization?: string;
  scopes: string[];
}

export const ROLES = [
  'patient',
  'representative',
  'professional',
  'regulator',
  'feeder',
  'assurance-maladie',
  'admin',
  'insurer',
  'employer',
  'occupational-physician',
] as const;
export type Role = (typeof ROLES)[number];

/** TRE_R248 access modes. */
export const PURPOSES_OF_USE = ['normal', 'bris_de_glace', 'centre_15'] as const;
export type PurposeOfUse = (typeof PURPOSES_OF_USE)[number];
