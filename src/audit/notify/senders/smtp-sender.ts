import nodemailer from 'nodemailer';
import { NotSendable, type Sender } from './sender';

export interface SmtpOptions {
  /** `smtp://user:pass@host:587` or `smtps://host:465` (credentials URL-encoded). */
  url: string;
  /** The From address. */
  from: string;
  /** Bound on one delivery, so a hung server never outlives a claim's lease. */
  timeoutMs: number;
}

/**
 * E-mail through an SMTP server (nodemailer), to the patient's address from
 * Patient.telecom. No address: {@link NotSendable} (recorded as stopped).
 * The message is plain text: the notification's text, nothing more.
 * @see https://hl7.org/fhir/R4/datatypes.html#ContactPoint
 */
export function smtpSender(o: SmtpOptions): Sender {
  const transport = nodemailer.createTransport({
    url: o.url,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
  });
  return {
    kind: 'smtp',
    needsContact: true,
    async send(n, contact) {
      if (!contact?.email) {
        throw new NotSendable('no e-mail address');
      }
      await transport.sendMail({
        from: o.from,
        to: contact.email,
        subject: n.subject,
        text: n.text,
        headers: { 'X-DMP-Notification': n.id },
      });
    },
    async close() {
      transport.close();
    },
  };
}
