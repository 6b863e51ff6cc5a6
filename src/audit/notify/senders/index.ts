import type { NotifyConfig } from '../../../config';
import { consoleSender } from './console-sender';
import { fileSender } from './file-sender';
import type { Sender } from './sender';
import { smtpSender } from './smtp-sender';
import { webhookSender } from './webhook-sender';

export { NotSendable, SendFailed, SENDER_KINDS, type Contact, type OutgoingNotification, type Sender, type SenderKind } from './sender';
export { consoleSender, fileSender, smtpSender, webhookSender };

/** Bound on one SMTP or webhook delivery (well under the claim lease). */
export const SEND_TIMEOUT_MS = 20_000;

/** The sender NOTIFY_SENDER names, configured from NOTIFY_* / SMTP_* (loadConfig checked them). */
export function senderFromConfig(c: NotifyConfig): Sender {
  switch (c.sender) {
    case 'file':
      return fileSender(c.file);
    case 'console':
      return consoleSender();
    case 'smtp':
      return smtpSender({ url: c.smtpUrl as string, from: c.smtpFrom as string, timeoutMs: SEND_TIMEOUT_MS });
    case 'webhook':
      return webhookSender({ url: c.webhookUrl as string, timeoutMs: SEND_TIMEOUT_MS });
  }
}
