import type { AuditEvent, AuditEventAgent, AuditEventEntity, CodeableConcept, Coding } from '@medplum/fhirtypes';
import { ACCESS_MODE_SYSTEM, DMP_BASE, PRINCIPAL_SYSTEM, RPPS_SYSTEM } from '../access/codes';
import type { Principal } from '../auth/principal';
import type { RequestContext } from '../fhir/context';
import type { Interaction } from '../fhir/interactions';
import {
  actionOf,
  AUDIT_TYPE,
  BALP_ENTITY_TYPE_SYSTEM,
  ENTITY_TYPE_SYSTEM,
  OBJECT_ROLE_SYSTEM,
  outcomeOf,
  PARTICIPATION_SYSTEM,
  patientChain,
  PROFESSION_SYSTEM,
  RESTFUL_INTERACTION_SYSTEM,
  SECURITY_ALERT_TYPE,
  SOURCE_TYPE_SYSTEM,
  subtypeCode,
  SYSTEM_CHAIN,
} from './codes';
import { MAX_LISTED_RESOURCES, type AuditTrace, type TouchedResource } from './trace';

/** An AuditEvent to append, and the chain it goes in. */
export interface PendingAudit {
  chain: string;
  event: AuditEvent;
}

/** What happened, as FhirService saw it. */
export interface InteractionRecord {
  ctx: RequestContext;
  interaction: Interaction;
  trace: AuditTrace;
  /** HTTP status of the answer (200, 201, 403, 404, ...). */
  status: number;
  /** The refusal's or error's text, for outcomeDesc (never resource content). */
  outcomeText?: string;
  /** ISO instant. */
  recorded: string;
  /** The calling professional's name in the directory; null when looked up and unknown, undefined when not looked up. */
  agentName?: string | null;
}

const MODE_DISPLAY: Readonly<Record<string, string>> = {
  normal: 'Accès normal',
  bris_de_glace: 'Accès en bris de glace',
  centre_15: 'Accès par un centre de régulation médicale',
};

/** DMP role of the agent (DMP-RULES.md § 7), a code of this server. */
export const AGENT_ROLE_SYSTEM = `${DMP_BASE}/CodeSystem/dmp-role`;

/**
 * The AuditEvents of one interaction, shaped like IHE BALP (codings carry
 * system and code; the English displays of the standard codes are left out,
 * as BALP allows: every AuditEvent is written for every request, and a
 * portal names codes in its own language; the access mode keeps its French
 * display, which the patient reads): one per DMP it
 * concerned (BALP records a query that returned several patients' data as
 * one AuditEvent per patient, so that each patient's history names only
 * him), or one with no patient when it concerned none. Pure.
 * @see https://hl7.org/fhir/R4/auditevent.html
 * @see https://profiles.ihe.net/ITI/BALP/StructureDefinition-IHE.BasicAudit.PatientQuery.html
 */
export function interactionAudits(r: InteractionRecord): PendingAudit[] {
  const patients = [...r.trace.patients];
  if (patients.length === 0) {
    return [{ chain: SYSTEM_CHAIN, event: baseEvent(r, undefined, r.trace.resources.filter((t) => t.patients.length === 0)) }];
  }
  return patients.map((p) => ({ chain: patientChain(p), event: baseEvent(r, p, r.trace.resources.filter((t) => t.patients.includes(p))) }));
}

/** A request refused before anyone was identified (401): a security event in no patient's history. */
export function unauthenticatedAudit(req: { requestId: string; baseUrl: string; method: string; path: string; recorded: string; reason: string }): PendingAudit {
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: SECURITY_ALERT_TYPE,
    subtype: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110122', display: 'Login' }],
    action: 'E',
    recorded: req.recorded,
    outcome: '4',
    outcomeDesc: `401 ${req.reason}`,
    agent: [{ type: { coding: [{ system: PARTICIPATION_SYSTEM, code: 'IRCP' }] }, who: { identifier: { system: `${PRINCIPAL_SYSTEM}/anonymous`, value: 'unauthenticated' } }, requestor: true }],
    source: source(req.baseUrl),
    entity: [
      { type: { system: ENTITY_TYPE_SYSTEM, code: '2' }, role: { system: OBJECT_ROLE_SYSTEM, code: '24' }, description: `${req.method} ${req.path}` },
      requestEntity(req.requestId, 0),
    ],
  };
  return { chain: SYSTEM_CHAIN, event };
}

function baseEvent(r: InteractionRecord, patient: string | undefined, resources: readonly TouchedResource[]): AuditEvent {
  const p = r.ctx.principal;
  const listed = resources.slice(0, MAX_LISTED_RESOURCES);
  const entity: AuditEventEntity[] = [];
  if (patient) {
    entity.push({
      what: { reference: `Patient/${patient}` },
      type: { system: ENTITY_TYPE_SYSTEM, code: '1' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '1' },
    });
  }
  for (const t of listed) {
    if (t.type === 'Patient' && t.id === patient) continue;
    entity.push({
      what: t.hidden ? { display: 'Un document' } : { reference: `${t.type}/${t.id}${t.versionId ? `/_history/${t.versionId}` : ''}` },
      type: { system: ENTITY_TYPE_SYSTEM, code: '2' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '4' },
      ...(t.name ? { name: t.name } : {}),
      ...(t.description ? { description: t.description } : {}),
    });
  }
  if (r.trace.query) {
    entity.push({
      type: { system: ENTITY_TYPE_SYSTEM, code: '2' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '24' },
      description: r.trace.query,
      query: Buffer.from(r.trace.query, 'utf8').toString('base64'),
    });
  }
  entity.push(requestEntity(r.ctx.requestId, resources.length - listed.length));
  const subtype: Coding[] = [{ system: RESTFUL_INTERACTION_SYSTEM, code: subtypeCode(r.interaction, r.trace.level) }];
  if (r.trace.operation) subtype.push({ system: `${DMP_BASE}/CodeSystem/dmp-operation`, code: r.trace.operation });
  return {
    resourceType: 'AuditEvent',
    type: AUDIT_TYPE,
    subtype,
    action: actionOf(r.interaction),
    recorded: r.recorded,
    outcome: outcomeOf(r.status),
    ...(r.status >= 400 ? { outcomeDesc: `${r.status}${r.outcomeText ? ` ${r.outcomeText}` : ''}` } : {}),
    ...(p ? { purposeOfEvent: [purposeOf(p)] } : {}),
    agent: [p ? agentOf(p, r.agentName ?? undefined) : anonymousAgent()],
    source: source(r.ctx.baseUrl),
    entity,
  };
}

/** Who: RPPS for professionals, the Patient for a patient, the token's subject otherwise; profession and DMP role. */
function agentOf(p: Principal, name: string | undefined): AuditEventAgent {
  const role: CodeableConcept[] = [{ coding: [{ system: AGENT_ROLE_SYSTEM, code: p.role }] }];
  if (p.profession) role.push({ coding: [{ system: PROFESSION_SYSTEM, code: p.profession }] });
  const who =
    p.role === 'patient' && p.patient
      ? { reference: `Patient/${p.patient}` }
      : p.rpps
        ? { identifier: { system: RPPS_SYSTEM, value: p.rpps }, ...(name ? { display: name } : {}) }
        : { identifier: { system: `${PRINCIPAL_SYSTEM}/${p.role}`, value: p.sub } };
  return {
    type: { coding: [{ system: PARTICIPATION_SYSTEM, code: 'IRCP' }] },
    role,
    who,
    ...(p.rpps ? { altId: p.rpps } : {}),
    ...(p.organization ? { name: p.organization } : {}),
    requestor: true,
  };
}

function anonymousAgent(): AuditEventAgent {
  return { who: { identifier: { system: `${PRINCIPAL_SYSTEM}/anonymous`, value: 'unauthenticated' } }, requestor: true };
}

function purposeOf(p: Principal): CodeableConcept {
  return { coding: [{ system: ACCESS_MODE_SYSTEM, code: p.purposeOfUse, display: MODE_DISPLAY[p.purposeOfUse] }] };
}

function source(baseUrl: string): AuditEvent['source'] {
  return {
    site: baseUrl,
    observer: { display: 'DMP FHIR server' },
    type: [{ system: SOURCE_TYPE_SYSTEM, code: '4' }],
  };
}

/** The request's X-Request-Id (BALP), and how many touched resources were not listed. */
function requestEntity(requestId: string, omitted: number): AuditEventEntity {
  return {
    what: { identifier: { value: requestId } },
    type: { system: BALP_ENTITY_TYPE_SYSTEM, code: 'XrequestId' },
    ...(omitted > 0 ? { detail: [{ type: 'omitted-resources', valueString: String(omitted) }] } : {}),
  };
}
