import type { Resource } from '@medplum/fhirtypes';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Principal } from '../../auth/principal';
import type { Interaction } from '../../fhir/interactions';
import type { IndexEntry } from '../../fhir/search/index-entry';
import { UniqueConflict, type ResourceStore } from '../../store/port';
import { NotificationCategory } from './codes';
import { newCommunication } from './communication';
import { Dispatcher } from './dispatcher';
import { KnownPairs } from './known-pairs';
import { textOf } from './message';
import { Outbox } from './outbox';
import type { Sender } from './senders/sender';
import { triggersOf, type Trigger } from './triggers';
import { describeActor, practitionerName } from './who';

/**
 * One interaction as the audit core reports it, once its AuditEvent is
 * durable (DMP-RULES.md § 8 items 10 and 13).
 */
export interface InteractionSummary {
  principal: Principal;
  interaction: Interaction;
  outcome: 'success' | 'denied' | 'error';
  /** Ids of the patients whose DMP data the interaction read, returned or wrote. */
  patients: readonly string[];
  /** For a successful create: the resource as stored. */
  created?: Resource;
  /** ISO instant. */
  at: string;
  /**
   * The professional's directory name as the caller (the audit) looked it
   * up: null when the directory does not know him, undefined when nobody
   * looked (the notifier then looks itself).
   */
  agentName?: string | null;
}

/** Delivery tuning; every field has a default. */
export interface NotifierOptions {
  /** Attempts before a notification is stopped (NOTIFY_MAX_ATTEMPTS, default 5). */
  maxAttempts?: number;
  /** Delay before the first retry, doubled at each later one (NOTIFY_RETRY_MS, default 30 s). */
  retryMs?: number;
  /** Longest delay between two attempts (default 1 h). */
  maxRetryMs?: number;
  /** How long a claim holds a notification (default 2 min): longer than any send may take. */
  leaseMs?: number;
  /** Time between two searches for due notifications (default 5 s; new ones are sent at once by this process). */
  pollMs?: number;
  /** Notifications claimed per search (default 20). */
  batchSize?: number;
  /** Bound on the in-process cache of notified (professional, DMP) pairs (default 100 000). */
  knownPairs?: number;
}

export interface NotifierDeps {
  store: ResourceStore;
  /** The app's indexer, which adds the access index entries (so the Communications are in the patient's DMP). */
  indexer: { extract(r: Resource): IndexEntry[] };
  sender: Sender;
  /** Epoch ms (tests pin it). */
  now?: () => number;
  logger: Logger;
  options?: NotifierOptions;
}

/**
 * The DMP notifications (DMP-RULES.md § 8 item 13): the patient is told when
 * a document is added, on each professional's first access to the DMP, and
 * on every emergency access. Each notification is a Communication of the
 * patient's DMP (readable by the patient and the legal representatives
 * only), written to the store as an outbox and sent by a pluggable sender.
 * @see https://hl7.org/fhir/R4/communication.html
 */
export class Notifier {
  private readonly outbox: Outbox;
  private readonly dispatcher: Dispatcher;
  private readonly known: KnownPairs;
  /** Writes in flight per idempotency key: concurrent first accesses in this process share one write. */
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly now: () => number;

  constructor(private readonly deps: NotifierDeps) {
    const o = deps.options ?? {};
    this.now = deps.now ?? Date.now;
    this.outbox = new Outbox({ store: deps.store, indexer: deps.indexer, now: this.now });
    this.known = new KnownPairs(o.knownPairs);
    const options = {
      maxAttempts: o.maxAttempts ?? 5,
      retryMs: o.retryMs ?? 30_000,
      maxRetryMs: o.maxRetryMs ?? 3_600_000,
      leaseMs: o.leaseMs ?? 120_000,
      pollMs: o.pollMs ?? 5_000,
      batchSize: o.batchSize ?? 20,
    };
    const holder = crypto.randomBytes(8).toString('hex');
    this.dispatcher = new Dispatcher(this.outbox, deps.store, deps.sender, deps.logger, this.now, options, holder);
  }

  /**
   * Decides the notifications an interaction triggers and puts them in the
   * outbox; resolves once they are durable (rejects if the store refused).
   * Cheap when nothing is triggered: a denied interaction, a patient's own
   * read, or a professional's read of a DMP this process knows is notified
   * touch no store at all.
   */
  async afterInteraction(s: InteractionSummary): Promise<void> {
    const todo = triggersOf(s).filter((t) => !(t.category === NotificationCategory.firstAccess && this.known.has(t.key as string)));
    if (todo.length === 0) return;
    const p = s.principal;
    const professional = p.rpps && (p.role === 'professional' || p.role === 'regulator');
    const name = !professional ? undefined : s.agentName === undefined ? await practitionerName(this.deps.store, p.rpps as string) : (s.agentName ?? undefined);
    const actor = describeActor(p, name);
    const stored = await Promise.all(todo.map((t) => this.enqueue(t, textOf(t.category, actor, s.at, p.purposeOfUse))));
    // Only new work wakes the dispatcher: after a restart, every professional's first read of each DMP finds its
    // notice already stored (the key is held), and a dispatch round per such read is a search for nothing.
    if (stored.includes(true)) this.dispatcher.wake();
  }

  /** Starts the dispatcher that sends due notifications (server.ts: after listen). */
  start(): void {
    this.dispatcher.start();
  }

  /** Stops the dispatcher (waits for its round in progress) and closes the sender. */
  async stop(): Promise<void> {
    await this.dispatcher.stop();
    await this.deps.sender.close();
  }

  /** One dispatch round now, whatever the poll interval (tests, and a CLI one day). Resolves with how many were handled. */
  runOnce(): Promise<number> {
    return this.dispatcher.runOnce();
  }

  /** Puts one notification in the outbox; resolves with false when its key was held (notified already). */
  private enqueue(t: Trigger, text: string): Promise<boolean> {
    const write = async () => {
      let stored = true;
      try {
        await this.outbox.add(newCommunication({ category: t.category, patient: t.patient, text, key: t.key, documentId: t.documentId }));
      } catch (err) {
        // The key is held: this first access (or this document) was notified already, maybe by another process.
        if (!(err instanceof UniqueConflict)) throw err;
        stored = false;
      }
      if (t.category === NotificationCategory.firstAccess) this.known.add(t.key as string);
      return stored;
    };
    if (!t.key) return write();
    let pending = this.inflight.get(t.key);
    if (!pending) {
      pending = write().finally(() => this.inflight.delete(t.key as string));
      this.inflight.set(t.key, pending);
    }
    return pending;
  }
}
