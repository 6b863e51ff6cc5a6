import type { InteractionRecord } from './event';
import { interactionAudits, unauthenticatedAudit } from './event';
import type { AuditTrail } from './trail';

/** What FhirService needs of the audit: record one interaction, durably, before it answers. */
export interface InteractionAuditor {
  interaction(r: InteractionRecord): Promise<void>;
}

/** Hears of each audited interaction once its AuditEvents are durable (notifications, § 8 item 13). */
export interface AuditListener {
  afterAudit(r: InteractionRecord): Promise<void>;
}

/**
 * Builds the AuditEvents of an interaction (event.ts), appends them to their
 * chains (trail.ts), then tells the listeners (the notifier). Rejects if any
 * step fails: FhirService then answers 503 and returns no data.
 */
export class AuditRecorder implements InteractionAuditor {
  constructor(
    private readonly trail: AuditTrail,
    private readonly listeners: readonly AuditListener[] = [],
  ) {}

  async interaction(r: InteractionRecord): Promise<void> {
    await this.trail.record(interactionAudits(r));
    for (const l of this.listeners) await l.afterAudit(r);
  }

  /** A request refused before anyone was identified (401). */
  async unauthenticated(req: Parameters<typeof unauthenticatedAudit>[0]): Promise<void> {
    await this.trail.record([unauthenticatedAudit(req)]);
  }
}
