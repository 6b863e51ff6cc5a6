import { DMP_BASE } from '../../access/codes';

/**
 * The codes and URLs of the DMP notifications (DMP-RULES.md § 8 item 13),
 * defined once. They are this server's own, under {@link DMP_BASE}.
 * @see https://hl7.org/fhir/R4/communication.html
 */

/** CodeSystem of `Communication.category`: why the patient is notified. */
export const NOTIFICATION_CATEGORY_SYSTEM = `${DMP_BASE}/CodeSystem/dmp-notification-category`;

export const NotificationCategory = {
  /** A document was added to the DMP. */
  newDocument: 'new-document',
  /** A professional accessed the DMP for the first time. */
  firstAccess: 'first-access',
  /** An access in an emergency mode (bris de glace, Centre 15). */
  emergencyAccess: 'emergency-access',
} as const;
export type NotificationCategory = (typeof NotificationCategory)[keyof typeof NotificationCategory];

export const CATEGORY_DISPLAY: Readonly<Record<NotificationCategory, string>> = {
  'new-document': 'Nouveau document dans le DMP',
  'first-access': "Premier accès d'un professionnel au DMP",
  'emergency-access': "Accès en mode d'urgence au DMP",
};

/**
 * `Communication.identifier` system of a notification's idempotency key
 * (`first-access|{patient}|{rpps}`, `new-document|{patient}|{document}`):
 * the store's unique key is derived from it on every version, so the key
 * stays held while the delivery state changes.
 */
export const NOTIFICATION_KEY_SYSTEM = `${DMP_BASE}/sid/notification-key`;

/**
 * Server-owned extension on the Communication holding the delivery state
 * (sub-extensions: attempts, nextAttempt, leaseHolder, leaseExpires,
 * lastError). Clients never write Communications of this kind: only the
 * outbox does, straight to the store.
 */
export const DELIVERY_EXTENSION = `${DMP_BASE}/StructureDefinition/dmp-notification-delivery`;

/** CodeSystem of `Communication.statusReason` when a notification is stopped. */
export const STOP_REASON_SYSTEM = `${DMP_BASE}/CodeSystem/dmp-notification-stop-reason`;

export const StopReason = {
  /** The sender cannot reach this patient (e.g. no e-mail address for SMTP). */
  notSendable: 'not-sendable',
  /** Every attempt failed. */
  attemptsExhausted: 'attempts-exhausted',
} as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

/**
 * Synthetic date index entry (not a search parameter: clients cannot name
 * it) on a notification still to send: when it is due (its next attempt, or
 * the expiry of its claim's lease). Sent and stopped ones carry none, so the
 * dispatcher's search only ever sees work to do.
 */
export const DUE_PARAM = 'dmp-notify-due';
