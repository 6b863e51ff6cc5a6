import type { Communication, Extension } from '@medplum/fhirtypes';
import {
  CATEGORY_DISPLAY,
  DELIVERY_EXTENSION,
  NOTIFICATION_CATEGORY_SYSTEM,
  NOTIFICATION_KEY_SYSTEM,
  STOP_REASON_SYSTEM,
  type NotificationCategory,
  type StopReason,
} from './codes';

/**
 * Where a notification is in its delivery, kept in the server-owned
 * {@link DELIVERY_EXTENSION} of the Communication (the outbox is the
 * Communications themselves). `status` says the phase:
 * `preparation` (never tried), `in-progress` (claimed by a dispatcher, or
 * waiting for a retry), `completed` (sent, `sent` set), `stopped` (given
 * up, `statusReason` says why).
 * @see https://hl7.org/fhir/R4/communication-definitions.html#Communication.status
 */
export interface DeliveryState {
  /** Claims so far (each claim is one attempt, including those of a dispatcher that crashed). */
  attempts: number;
  /** Not before this instant (a retry's backoff). */
  nextAttempt?: string;
  /** The dispatcher that claimed it, until `leaseExpires`. */
  leaseHolder?: string;
  leaseExpires?: string;
  /** Why the last attempt failed: a short, content-free reason (an HTTP or SMTP status, an error code). */
  lastError?: string;
}

/** What a new notification says and to whom. */
export interface NotificationDraft {
  category: NotificationCategory;
  patient: string;
  text: string;
  key?: string;
  documentId?: string;
}

/**
 * A new notification as an R4 Communication of the patient's DMP: subject
 * and recipient the patient, the category coded, the text in French, no
 * sender (the DMP itself), delivery state 0 attempts.
 * @see https://hl7.org/fhir/R4/communication.html
 */
export function newCommunication(d: NotificationDraft): Communication {
  const patient = { reference: `Patient/${d.patient}` };
  return withDelivery(
    {
      resourceType: 'Communication',
      ...(d.key ? { identifier: [{ system: NOTIFICATION_KEY_SYSTEM, value: d.key }] } : {}),
      status: 'preparation',
      category: [{ coding: [{ system: NOTIFICATION_CATEGORY_SYSTEM, code: d.category, display: CATEGORY_DISPLAY[d.category] }] }],
      subject: patient,
      recipient: [patient],
      ...(d.documentId ? { about: [{ reference: `DocumentReference/${d.documentId}` }] } : {}),
      payload: [{ contentString: d.text }],
    },
    { attempts: 0 },
  );
}

/** The Communication with this delivery state (other extensions kept). */
export function withDelivery(c: Communication, s: DeliveryState): Communication {
  const parts: Extension[] = [{ url: 'attempts', valueInteger: s.attempts }];
  if (s.nextAttempt) parts.push({ url: 'nextAttempt', valueInstant: s.nextAttempt });
  if (s.leaseHolder) parts.push({ url: 'leaseHolder', valueString: s.leaseHolder });
  if (s.leaseExpires) parts.push({ url: 'leaseExpires', valueInstant: s.leaseExpires });
  if (s.lastError) parts.push({ url: 'lastError', valueString: s.lastError });
  const others = (c.extension ?? []).filter((e) => e.url !== DELIVERY_EXTENSION);
  return { ...c, extension: [...others, { url: DELIVERY_EXTENSION, extension: parts }] };
}

/** The delivery state recorded on a Communication (0 attempts when none). */
export function deliveryOf(c: Communication): DeliveryState {
  const ext = c.extension?.find((e) => e.url === DELIVERY_EXTENSION)?.extension ?? [];
  const get = (url: string) => ext.find((e) => e.url === url);
  return {
    attempts: get('attempts')?.valueInteger ?? 0,
    nextAttempt: get('nextAttempt')?.valueInstant,
    leaseHolder: get('leaseHolder')?.valueString,
    leaseExpires: get('leaseExpires')?.valueInstant,
    lastError: get('lastError')?.valueString,
  };
}

/** Still to send: not completed, not stopped. */
export function isPending(c: Communication): boolean {
  return c.status === 'preparation' || c.status === 'in-progress';
}

/** When a pending notification may be claimed: its retry time, or the end of a live claim's lease. */
export function dueAt(c: Communication): number {
  const s = deliveryOf(c);
  return Math.max(s.nextAttempt ? Date.parse(s.nextAttempt) : 0, s.leaseExpires ? Date.parse(s.leaseExpires) : 0);
}

/** The notification's category code. */
export function categoryOf(c: Communication): NotificationCategory {
  const code = c.category?.flatMap((cc) => cc.coding ?? []).find((x) => x.system === NOTIFICATION_CATEGORY_SYSTEM)?.code;
  return code as NotificationCategory;
}

/** The recipient patient's id. */
export function patientOf(c: Communication): string {
  return (c.subject?.reference ?? '').replace(/^Patient\//, '');
}

/**
 * The store's unique keys of a notification, from its idempotency
 * identifier: every version passes them again (a version holds exactly the
 * keys it is written with), so a first access stays notified once.
 */
export function uniqueKeysOf(c: Communication): string[] | undefined {
  const key = c.identifier?.find((i) => i.system === NOTIFICATION_KEY_SYSTEM)?.value;
  return key ? [`Communication|${key}`] : undefined;
}

/** Delivered: `completed`, with `sent`. */
export function completed(c: Communication, s: DeliveryState, sentAt: string): Communication {
  return { ...withDelivery(c, { attempts: s.attempts }), status: 'completed', sent: sentAt };
}

/** Given up: `stopped`, with the reason coded (and the last error, content-free). */
export function stopped(c: Communication, s: DeliveryState, reason: StopReason, detail: string): Communication {
  return {
    ...withDelivery(c, { attempts: s.attempts, lastError: detail }),
    status: 'stopped',
    statusReason: { coding: [{ system: STOP_REASON_SYSTEM, code: reason }], text: detail },
  };
}
