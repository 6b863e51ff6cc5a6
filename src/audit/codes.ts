import { DMP_BASE } from '../access/codes';
import { Interaction } from '../fhir/interactions';

/**
 * The codings of the AuditEvents this server writes, defined once. They
 * follow IHE Basic Audit Log Patterns (BALP): type `rest`, the RESTful
 * interaction as subtype, the DICOM / v3 agent and entity codes.
 * @see https://hl7.org/fhir/R4/auditevent.html
 * @see https://profiles.ihe.net/ITI/BALP/
 */
export const AUDIT_TYPE = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' } as const;

/** A request refused before anyone was identified (401): DICOM "Security Alert". */
export const SECURITY_ALERT_TYPE = { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110113', display: 'Security Alert' } as const;

export const RESTFUL_INTERACTION_SYSTEM = 'http://hl7.org/fhir/restful-interaction';

/** Audit subtype code of an interaction; history and search are qualified by their level. */
export function subtypeCode(interaction: Interaction, level: 'instance' | 'type' | 'system'): string {
  switch (interaction) {
    case Interaction.history:
      return `history-${level}`;
    case Interaction.search:
      return level === 'system' ? 'search-system' : 'search-type';
    default:
      return interaction;
  }
}

/** AuditEvent.action: C create, R read, U update, D delete, E execute (searches and operations, as BALP records queries). */
export function actionOf(interaction: Interaction): 'C' | 'R' | 'U' | 'D' | 'E' {
  switch (interaction) {
    case Interaction.create:
      return 'C';
    case Interaction.read:
    case Interaction.vread:
    case Interaction.history:
      return 'R';
    case Interaction.update:
    case Interaction.patch:
      return 'U';
    case Interaction.delete:
      return 'D';
    default:
      return 'E';
  }
}

/** AuditEvent.outcome from the HTTP status: 0 success, 4 minor failure (refusals, bad input), 8 serious failure. */
export function outcomeOf(status: number): '0' | '4' | '8' {
  return status < 400 ? '0' : status < 500 ? '4' : '8';
}

export const ENTITY_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
export const OBJECT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/object-role';
export const PARTICIPATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const SOURCE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/security-source-type';
export const BALP_ENTITY_TYPE_SYSTEM = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
/** TRE_G15: professions (agent.role of a professional). */
export const PROFESSION_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';

/**
 * Extension carrying an AuditEvent's link in its hash chain: `chain` (the
 * chain key, `Patient/{id}` or `system`), `seq` (position, from 1) and
 * `previous` (the SHA-256 of the previous link, absent on the first).
 */
export const CHAIN_EXTENSION = `${DMP_BASE}/StructureDefinition/dmp-audit-chain`;

/** The chain of the AuditEvents that concern no single patient (401s, conformance reads, directory searches). */
export const SYSTEM_CHAIN = 'system';

/** The chain of one patient's AuditEvents. */
export function patientChain(patientId: string): string {
  return `Patient/${patientId}`;
}
