import type { NotificationCategory } from '../codes';

/** The sender kinds of NOTIFY_SENDER. */
export const SENDER_KINDS = ['file', 'console', 'smtp', 'webhook'] as const;
export type SenderKind = (typeof SENDER_KINDS)[number];

/** A notification as a sender needs it: taken from its Communication, never the delivery state. */
export interface OutgoingNotification {
  /** The Communication's id (receivers may deduplicate on it). */
  id: string;
  category: NotificationCategory;
  /** Id of the recipient patient. */
  patient: string;
  /** A subject line without health data. */
  subject: string;
  /** The French text (Communication.payload.contentString). */
  text: string;
}

/** The patient's contact points, from Patient.telecom (read only for senders that need them). */
export interface Contact {
  email?: string;
  phone?: string;
}

/**
 * One way of delivering notifications (DMP-RULES.md § 8 item 13: "a
 * pluggable sender"). `send` resolves once the notification is handed over
 * (written, accepted by the SMTP server, answered 2xx); it rejects with
 * {@link NotSendable} when it can never reach this patient, or any other
 * error for a failure worth retrying.
 */
export interface Sender {
  readonly kind: SenderKind;
  /** Whether the dispatcher must read the patient's contact points first. */
  readonly needsContact: boolean;
  send(n: OutgoingNotification, contact: Contact | undefined): Promise<void>;
  close(): Promise<void>;
}

/** This patient cannot be reached by this sender (e.g. no e-mail address): no retry. */
export class NotSendable extends Error {
  constructor(
    /** Short, content-free reason (recorded on the Communication): never an address. */
    readonly reason: string,
  ) {
    super(`Not sendable: ${reason}`);
    this.name = 'NotSendable';
  }
}

/** A failed attempt worth retrying, with a content-free reason (an HTTP or SMTP status, an error code). */
export class SendFailed extends Error {
  constructor(readonly reason: string) {
    super(`Send failed: ${reason}`);
    this.name = 'SendFailed';
  }
}

/**
 * The reason to record for any error a sender threw: its own content-free
 * reason, or an error code, never the message (which may quote an address
 * or a server's reply).
 */
export function safeReason(err: unknown): string {
  if (err instanceof SendFailed || err instanceof NotSendable) return err.reason;
  const e = err as { code?: unknown; responseCode?: unknown; name?: unknown };
  if (typeof e?.responseCode === 'number') return `SMTP ${e.responseCode}`;
  if (typeof e?.code === 'string' && /^[A-Z0-9_]{1,40}$/i.test(e.code)) return e.code;
  return typeof e?.name === 'string' ? e.name.slice(0, 40) : 'error';
}
