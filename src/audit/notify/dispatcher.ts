import type { Communication } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { ResourceStore, VersionRecord } from '../../store/port';
import { StopReason } from './codes';
import { categoryOf, completed, deliveryOf, dueAt, isPending, patientOf, stopped, withDelivery, type DeliveryState } from './communication';
import { patientContact } from './contact';
import { subjectOf } from './message';
import type { Outbox } from './outbox';
import { NotSendable, safeReason, type Sender } from './senders/sender';

/** Delivery tuning (see NotifierOptions). */
export interface DispatchOptions {
  maxAttempts: number;
  /** First retry delay; each later one doubles, up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
  /** How long a claim holds a notification; a dispatcher that dies mid-send loses it after this. */
  leaseMs: number;
  pollMs: number;
  batchSize: number;
}

/**
 * Sends due notifications: finds them by a store search, claims each by
 * compare-and-set (a new version `in-progress` with this dispatcher as lease
 * holder, written with the version it read as expected version: of several
 * dispatchers exactly one wins), sends, and records the outcome the same
 * way: `completed` with `sent`, a retry after an exponential backoff, or
 * `stopped`. A claim whose lease ran out (its dispatcher crashed) is due
 * again and is claimed anew, counting as one more attempt. Delivery is at
 * least once: a crash between sending and recording resends.
 */
export class Dispatcher {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly store: ResourceStore,
    private readonly sender: Sender,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly o: DispatchOptions,
    /** This dispatcher's lease-holder id (random: it ends up in the patient's Communication, so no host name). */
    private readonly holder: string,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops polling and waits for the round in progress (its claims are recorded or left to expire). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.round;
  }

  /** New work was queued: look now rather than at the next poll. */
  wake(): void {
    if (!this.running) return;
    if (this.round) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** One round: every due notification, batch after batch. Resolves with how many were handled. */
  async runOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const due = await this.outbox.due(this.o.batchSize);
      await Promise.all(due.map((r) => this.deliver(r)));
      handled += due.length;
      if (due.length < this.o.batchSize || !this.running) return handled;
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    if (!this.running || this.round) return;
    this.again = false;
    this.round = this.runOnce()
      .then(
        () => undefined,
        (err: unknown) => this.logger.error({ err: safeReason(err) }, 'notification dispatch round failed'),
      )
      .finally(() => {
        this.round = undefined;
        if (this.running) this.schedule(this.again ? 0 : this.o.pollMs);
      });
  }

  /** Claims, sends and records one notification; losing the claim to another dispatcher is normal. */
  private async deliver(record: VersionRecord): Promise<void> {
    const c = JSON.parse(record.json as string) as Communication;
    const before = deliveryOf(c);
    if (!isPending(c) || dueAt(c) > this.now()) return;
    const state: DeliveryState = {
      attempts: before.attempts + 1,
      leaseHolder: this.holder,
      leaseExpires: new Date(this.now() + this.o.leaseMs).toISOString(),
      lastError: before.lastError,
    };
    const claimedResource = withDelivery({ ...c, status: 'in-progress' }, state);
    const claimed = await this.outbox.replace(record, claimedResource);
    if (!claimed) return;
    const log = { notification: record.id, category: categoryOf(c), attempt: state.attempts };
    let next: Communication;
    try {
      await this.send(record.id, c);
      next = completed(claimedResource, state, new Date(this.now()).toISOString());
      this.logger.info(log, 'notification sent');
    } catch (err) {
      const reason = safeReason(err);
      if (err instanceof NotSendable) {
        next = stopped(claimedResource, state, StopReason.notSendable, reason);
        this.logger.warn({ ...log, reason }, 'notification not sendable: stopped');
      } else if (state.attempts >= this.o.maxAttempts) {
        next = stopped(claimedResource, state, StopReason.attemptsExhausted, reason);
        this.logger.error({ ...log, reason }, 'notification failed: last attempt, stopped');
      } else {
        const delay = Math.min(this.o.retryMs * 2 ** (state.attempts - 1), this.o.maxRetryMs);
        const nextAttempt = new Date(this.now() + delay).toISOString();
        next = withDelivery({ ...c, status: 'in-progress' }, { attempts: state.attempts, nextAttempt, lastError: reason });
        this.logger.warn({ ...log, reason, retryInMs: delay }, 'notification failed: will retry');
      }
    }
    if (!(await this.outbox.replace(claimed, next))) {
      // Our lease ran out mid-send and another dispatcher claimed it: it will record (and may resend).
      this.logger.warn(log, 'notification claim lost before its outcome was recorded');
    }
  }

  private async send(id: string, c: Communication): Promise<void> {
    const patient = patientOf(c);
    const category = categoryOf(c);
    const contact = this.sender.needsContact ? await patientContact(this.store, patient, this.now()) : undefined;
    const text = c.payload?.find((p) => p.contentString)?.contentString ?? '';
    await this.sender.send({ id, category, patient, subject: subjectOf(category), text }, contact);
  }
}
