import type { Resource } from '@medplum/fhirtypes';
import { AuditTrace } from '../../audit/trace';
import type { ContentSession } from '../binary/content-session';
import { bundleKind } from '../bundle/entries';
import { lookupInput } from '../bundle/public-runner';
import type { ReturnPreference } from '../bundle/response';
import { runTransaction } from '../bundle/transaction';
import { TransactionPortImpl, type EntryAudit, type TransactionPaths } from '../bundle/transaction-port';
import type { RequestContext } from '../context';
import { prepareDocumentBundle, withProvideResponseProfile } from '../documents/provide-bundle';
import { Interaction } from '../interactions';
import { FhirError, issue, outcome } from '../outcomes';
import { cloneJson } from '../json/lexemes';
import { checkScopes } from '../scope-check';
import { storeRefusal, type ServiceDoor } from './door';
import type { RecordInteractions } from './records';
import type { SearchInteractions } from './search';

/**
 * A transaction Bundle, all or nothing (see bundle/transaction.ts): the one
 * interaction that does not run through `perform`, because each entry is
 * its own AuditEvent. The caller is admitted once; each entry passes the
 * checks of its single interaction through the private paths below (no
 * audit there); all writes are committed by one ResourceStore.writeAll;
 * then each entry is audited here, exactly once (the failing one alone when
 * the transaction fails).
 * @see https://hl7.org/fhir/R4/http.html#trules
 */
export class TransactionInteraction {
  constructor(
    private readonly door: ServiceDoor,
    private readonly records: RecordInteractions,
    private readonly searches: SearchInteractions,
  ) {}

  /**
   * Runs the transaction and returns its transaction-response Bundle as JSON
   * text. A transaction that lost a race at its commit (see
   * TransactionPortImpl.lostRace) is run again from the start, up to
   * MAX_ATTEMPTS times in all, as ResourceWriter does for single writes: two
   * senders opening the DMP of one new patient at once both succeed, the
   * second finding the Patient the first created; an entry whose If-Match
   * no longer holds fails with 412 on the next run.
   */
  async run(ctx: RequestContext, body: unknown, prefer: ReturnPreference): Promise<string> {
    const { entries } = bundleKind(body, this.door.deps.bundleMaxEntries ?? 1000);
    try {
      // Scopes are checked per entry (TransactionPaths.scopes), once each entry's interaction is known.
      await this.door.admit(ctx);
    } catch (err) {
      const refusal = storeRefusal(err);
      await this.door.audit(ctx, Interaction.transaction, new AuditTrace(), refusal);
      throw refusal;
    }
    for (let attempt = 1; ; attempt++) {
      const last = attempt === MAX_ATTEMPTS;
      // Running a transaction rewrites its entries in place (references, ids): a later attempt needs them as sent.
      const outcome = await this.attempt(ctx, last ? entries : cloneJson(entries), prefer, !last);
      if (outcome !== RETRY) return outcome;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * 2 ** attempt * (0.5 + Math.random())));
    }
  }

  /** One run of the transaction: its response, or RETRY when it lost a race and `mayRetry` (nothing stored, nothing audited). */
  private async attempt(ctx: RequestContext, entries: readonly unknown[], prefer: ReturnPreference, mayRetry: boolean): Promise<string | typeof RETRY> {
    // One content session for every Binary of the bundle: removed if the transaction fails.
    const content = this.door.contentSession();
    const port = new TransactionPortImpl(this.paths(ctx, content), this.door.deps.store);
    try {
      // IHE MHD ITI-65 (documents/provide-bundle.ts): attachments agree with their Binaries, replaced documents become superseded.
      const documents = prepareDocumentBundle(entries);
      const done = await runTransaction(documents.entries, port, prefer, ctx.baseUrl);
      // One AuditEvent per entry, here and only here: the entries never went through `perform`.
      await this.auditEntries(ctx, port.audited(done));
      return documents.provide ? withProvideResponseProfile(done.json) : done.json;
    } catch (err) {
      const refusal = storeRefusal(err);
      await content.discard();
      if (port.lostRace && mayRetry) return RETRY;
      // The failing entry (nothing was stored); a refusal before any entry (401, refused role) as the transaction itself.
      const failed = port.audited(undefined, refusal);
      if (failed.length > 0) await this.auditEntries(ctx, failed);
      else await this.door.audit(ctx, Interaction.transaction, new AuditTrace(), refusal);
      throw refusal;
    }
  }

  /** The private paths a transaction runs its entries through (stage: writes collected for the commit). */
  private paths(ctx: RequestContext, content: ContentSession): TransactionPaths {
    const { access } = this.door.deps;
    const { records, searches } = this;
    const scopes = (interaction: Interaction, type: string) => {
      if (access && ctx.principal) checkScopes(ctx.principal.scopes, interaction, [type]);
    };
    return {
      scopes,
      // Each entry's trace is not recorded: its AuditEvent is built from the port's per-entry list (auditEntries).
      create: (type, b, opts, stage) => records.create(ctx, new AuditTrace(), type, b, opts, stage, content),
      update: (type, id, b, opts, stage) => records.update(ctx, new AuditTrace(), type, id, b, opts, stage, content),
      patch: (type, id, ops, opts, stage) => records.patch(ctx, new AuditTrace(), type, id, ops, opts, stage, content),
      delete: (type, id, opts, stage) => records.delete(ctx, new AuditTrace(), type, id, opts, stage),
      read: (type, id) => records.read(ctx, new AuditTrace(), type, id),
      vread: (type, id, vid) => records.vread(ctx, new AuditTrace(), type, id, vid),
      search: (type, params) => searches.bundle(ctx, new AuditTrace(), [type], params, { lenient: false, path: type, baseUrl: ctx.baseUrl }),
      lookup: async (params) => this.door.conformance().lookup(...lookupInput(params)),
      matchOne: (type, criteria, what, exclude) => this.door.conditional.single(ctx, type, criteria, what, exclude),
      ifNoneExist: (type, criteria, exclude) => this.door.conditional.ifNoneExist(ctx, type, criteria, exclude),
    };
  }

  /** One AuditEvent per transaction entry, from the port's list (its interaction, resource, status and DMPs). */
  private async auditEntries(ctx: RequestContext, entries: readonly EntryAudit[]): Promise<void> {
    const access = this.door.deps.access;
    for (const e of entries) {
      const trace = new AuditTrace();
      trace.level = e.id ? 'instance' : 'type';
      if (e.written && access) {
        // As written (parsed once, here): its DMPs, documents named by their title, a created resource for the notifications.
        const r = JSON.parse(e.written) as Resource;
        trace.touch(r, access.facetsOf(r), Number(r.meta?.versionId) || undefined);
        if (e.interaction === Interaction.create) trace.created = r;
      } else if (e.id) {
        trace.touchRef(e.type, e.id, []);
      }
      const status = e.status;
      await this.door.audit(ctx, e.interaction, trace, status >= 400 ? entryFailure(status) : undefined, status || 200);
    }
  }
}

/**
 * Runs of one transaction that keeps losing races at commit, before its 409
 * (or 412) is answered. More than ResourceWriter's 5 for single writes: a
 * transaction holds several resources, and on MongoDB without multi-document
 * transactions a staged commit stays in the way for longer.
 */
const MAX_ATTEMPTS = 8;
/** The pause before the n-th run again: RETRY_DELAY_MS·2^n, jittered (±50 %) so that two losers do not meet again; about 1.3 s in all. */
const RETRY_DELAY_MS = 5;
const RETRY = Symbol('retry');

/** A transaction entry's failure as the audit records it (its status; the text is the entry's own outcome, in the response). */
function entryFailure(status: number): FhirError {
  return new FhirError(status, outcome(issue('processing', `Bundle entry failed (${status})`)));
}
