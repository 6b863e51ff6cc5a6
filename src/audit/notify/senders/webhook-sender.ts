import { SendFailed, type Sender } from './sender';

export interface WebhookOptions {
  url: string;
  /** Bound on one request, so a hung receiver never outlives a claim's lease. */
  timeoutMs: number;
}

/**
 * An HTTP POST of one JSON object per notification (e.g. to an SMS
 * gateway): `{ id, category, patient, subject, text, to: { email?, phone? } }`.
 * Any 2xx answer is a delivery; anything else, or no answer, is retried.
 * Receivers should deduplicate on `id`: a dispatcher that crashes after
 * the POST and before recording it makes the next one send it again.
 */
export function webhookSender(o: WebhookOptions): Sender {
  return {
    kind: 'webhook',
    needsContact: true,
    async send(n, contact) {
      const body = JSON.stringify({ id: n.id, category: n.category, patient: n.patient, subject: n.subject, text: n.text, to: contact ?? {} });
      let res: Response;
      try {
        res = await fetch(o.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.timeout(o.timeoutMs),
          redirect: 'manual',
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string }; name?: string }).cause?.code ?? (err as Error).name;
        throw new SendFailed(`webhook unreachable (${cause ?? 'error'})`);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) {
        throw new SendFailed(`HTTP ${res.status}`);
      }
    },
    async close() {},
  };
}
