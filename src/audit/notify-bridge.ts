import type { InteractionRecord } from './event';
import type { Notifier } from './notify/notifier';
import type { AuditListener } from './recorder';

/**
 * The notifier as an audit listener: it hears of each interaction once its
 * AuditEvents are durable, as the summary it decides on (who, what, which
 * DMPs, success or not). Requests with no principal (401) notify nobody.
 */
export function notifierListener(notifier: Pick<Notifier, 'afterInteraction'>): AuditListener {
  return {
    afterAudit: async (r: InteractionRecord) => {
      if (!r.ctx.principal) return;
      await notifier.afterInteraction({
        principal: r.ctx.principal,
        interaction: r.interaction,
        outcome: r.status < 400 ? 'success' : r.status === 403 || r.status === 404 ? 'denied' : 'error',
        patients: [...r.trace.patients],
        created: r.trace.created,
        at: r.recorded,
        agentName: r.agentName,
      });
    },
  };
}
