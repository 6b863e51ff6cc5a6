import type { Resource } from '@medplum/fhirtypes';
import { EMERGENCY_PURPOSES, Label, VISIBILITY_SYSTEM } from '../../access/codes';
import type { Principal } from '../../auth/principal';
import { isValidId } from '../../fhir/ids';
import { Interaction } from '../../fhir/interactions';
import { NotificationCategory } from './codes';

/** What happened, as the audit core hands it over (see Notifier.afterInteraction). */
export interface TriggerInput {
  principal: Principal;
  interaction: Interaction;
  outcome: 'success' | 'denied' | 'error';
  patients: readonly string[];
  created?: Resource;
}

/** One notification to put in the outbox, before its text is written. */
export interface Trigger {
  category: NotificationCategory;
  patient: string;
  /**
   * Idempotency key (the store's unique key): present for what must happen
   * at most once (a first access per professional, a document's notice).
   */
  key?: string;
  /** The created document (new-document only). */
  documentId?: string;
}

/** Roles that access a DMP as health professionals (DMP-RULES.md § 5). */
const PROFESSIONAL_ROLES: ReadonlySet<string> = new Set(['professional', 'regulator']);

/**
 * The notifications an interaction triggers (DMP-RULES.md § 8 item 13). Pure:
 * whether a first access was already notified is the caller's concern (the
 * `key` makes the store refuse a second one).
 * - a successful create of a DocumentReference: "new document" for its
 *   patients, whoever fed it, but not for the patient (or representative)
 *   uploading it to their own DMP, and not while it is `INVISIBLE_PATIENT`
 *   (the patient must not learn of it before the announcement consultation,
 *   DMP-RULES.md § 4: **project rule**);
 * - any successful access in an emergency mode: "emergency access", per
 *   patient, every time;
 * - any successful access by a professional or regulator in normal mode:
 *   "first access", at most once per (RPPS, DMP).
 * Denied and failed interactions trigger nothing.
 */
export function triggersOf(s: TriggerInput): Trigger[] {
  if (s.outcome !== 'success') {
    return [];
  }
  const patients = [...new Set(s.patients)].filter(isValidId);
  const out: Trigger[] = [];
  const doc = s.created?.resourceType === 'DocumentReference' && s.interaction === Interaction.create ? s.created : undefined;
  if (doc?.id && !invisibleToPatient(doc)) {
    const actsForSelf = s.principal.role === 'patient' || s.principal.role === 'representative';
    for (const patient of patients) {
      if (actsForSelf && s.principal.patient === patient) continue;
      out.push({ category: NotificationCategory.newDocument, patient, key: `new-document|${patient}|${doc.id}`, documentId: doc.id });
    }
  }
  const purpose = s.principal.purposeOfUse;
  if ((EMERGENCY_PURPOSES as readonly string[]).includes(purpose)) {
    for (const patient of patients) out.push({ category: NotificationCategory.emergencyAccess, patient });
  } else if (PROFESSIONAL_ROLES.has(s.principal.role) && s.principal.rpps) {
    for (const patient of patients) {
      out.push({ category: NotificationCategory.firstAccess, patient, key: firstAccessKey(patient, s.principal.rpps) });
    }
  }
  return out;
}

/** The idempotency key of a first access. */
export function firstAccessKey(patient: string, rpps: string): string {
  return `first-access|${patient}|${rpps}`;
}

function invisibleToPatient(doc: Resource & { resourceType: 'DocumentReference' }): boolean {
  return (doc.securityLabel ?? []).some((cc) =>
    (cc.coding ?? []).some((c) => c.code === Label.invisibleToPatient && (c.system === undefined || c.system === VISIBILITY_SYSTEM)),
  );
}
