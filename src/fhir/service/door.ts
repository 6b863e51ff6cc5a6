import type { Resource } from '@medplum/fhirtypes';
import type { Readable } from 'node:stream';
import { StoreUnavailable, type VersionRecord, type VersionWrite } from '../../store/port';
import { Reason } from '../../access/decision';
import { REFUSED_ROLES } from '../../access/dmp-access';
import { patientsInJson } from '../../access/facets';
import type { Principal } from '../../auth/principal';
import { AuditHistory } from '../../audit/history';
import { AuditTrace } from '../../audit/trace';
import { enforceRead } from '../access-guard';
import { binaryDocuments } from '../binary/documents';
import { ContentSession } from '../binary/content-session';
import { ConditionalMatcher } from '../conditional';
import type { RequestContext } from '../context';
import { Interaction } from '../interactions';
import { errors, FhirError } from '../outcomes';
import type { Conformance } from '../profiles/conformance';
import { RecordLife } from '../record-life';
import { checkScopes, SYSTEM_SEARCH } from '../scope-check';
import { SearchRunner } from '../search-runner';
import { writeHooks } from '../write-hooks';
import { ResourceWriter, type WriteHooks, type WriteResult } from '../writer';
import type { ServiceDeps } from './deps';

/** BINARY_MAX_SIZE's default. */
const DEFAULT_BINARY_MAX_BYTES = 100 * 1024 * 1024;

/** Collects a transaction's prepared versions (WriteHooks.stage). */
export type Stage = (write: VersionWrite) => void;

/**
 * The core of FhirService: {@link perform}, the one place where an
 * interaction is authorized and audited, and the helpers every part of the
 * service shares (write hooks, visibility, what the audit is told). The parts
 * (records.ts, search.ts, ...) implement interactions on top of it and never
 * audit; FhirService (../service.ts) wraps each public method in `perform`.
 * @see https://hl7.org/fhir/R4/http.html
 */
export class ServiceDoor {
  readonly search: SearchRunner;
  readonly writer: ResourceWriter;
  readonly recordLife: RecordLife;
  readonly conditional: ConditionalMatcher;
  /** The access history, read from the patients' audit chains (present with the audit). */
  readonly auditHistory?: AuditHistory;
  readonly now: () => number;

  constructor(readonly deps: ServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.search = new SearchRunner(deps.store, deps.limits);
    this.writer = new ResourceWriter({ ...deps, now: deps.now ?? Date.now });
    this.recordLife = new RecordLife(this.writer, deps.now ?? Date.now);
    this.conditional = new ConditionalMatcher(this.search, deps.access);
    this.auditHistory = deps.audit && deps.access ? new AuditHistory(deps.store) : undefined;
  }

  /**
   * Runs one interaction for the caller. The AuditEvent of the interaction
   * (issue: traceability) is written here, and only here, with the
   * outcome (including refusals thrown by the access checks).
   */
  async perform<T>(
    ctx: RequestContext,
    interaction: Interaction,
    types: readonly string[] | typeof SYSTEM_SEARCH,
    run: (trace: AuditTrace) => Promise<T>,
    /** The interaction whose SMART scopes are needed (read-only operations need search, not update). */
    scopeAs: Interaction = interaction,
  ): Promise<T> {
    const trace = new AuditTrace();
    let result: T;
    try {
      await this.admit(ctx, (principal) => checkScopes(principal.scopes, scopeAs, types));
      result = await run(trace);
    } catch (err) {
      const refusal = storeRefusal(err);
      await this.audit(ctx, interaction, trace, refusal);
      throw refusal;
    }
    await this.audit(ctx, interaction, trace, undefined, isCreated(result) ? 201 : 200);
    return result;
  }

  /**
   * Identifies the caller and synchronises the access facts, once per
   * interaction (a transaction admits once for all its entries). `scopes`
   * checks the SMART scopes where they are known up front.
   */
  async admit(ctx: RequestContext, scopes?: (principal: Principal) => void): Promise<void> {
    if (!this.deps.access) return;
    if (!ctx.principal) throw errors.unauthorized();
    // Insurers, employers, occupational physicians: nothing at all, whatever the path (DMP-RULES.md § 5).
    if (REFUSED_ROLES.has(ctx.principal.role)) throw errors.forbidden(`Access refused (${Reason.refusedRole})`);
    scopes?.(ctx.principal);
    await this.deps.access.sync();
  }

  /**
   * Records the interaction (DMP-RULES.md § 8): only once it is durable does
   * the caller get an answer; if it cannot be recorded, the answer is 503
   * with no data, whatever the interaction did.
   */
  async audit(ctx: RequestContext, interaction: Interaction, trace: AuditTrace, err: unknown, okStatus = 200): Promise<void> {
    if (!this.deps.audit) return;
    const status = err === undefined ? okStatus : err instanceof FhirError ? err.status : 500;
    const outcomeText = err instanceof FhirError ? err.outcome.issue?.[0]?.details?.text : undefined;
    try {
      // null: looked up, and the directory does not know him (the notifier need not look again).
      const agentName = this.deps.access ? ((await this.deps.access.agentName(ctx)) ?? null) : undefined;
      await this.deps.audit.interaction({ ctx, interaction, trace, status, outcomeText, agentName, recorded: new Date(this.now()).toISOString() });
    } catch {
      throw errors.unavailable();
    }
  }

  /** The write hooks of FhirService, which also tell the audit what the write touched (even when it is refused). */
  hooks(ctx: RequestContext, op: 'create' | 'update' | 'patch' | 'delete', trace: AuditTrace, stage?: Stage, content?: ContentSession): WriteHooks {
    const base = writeHooks(ctx, op, this.deps.access);
    // In a transaction, the version is collected for the one commit instead of written.
    // A Binary's bytes go to the store, outside its JSON, before its version (every write path, Bundles included).
    const hooks: WriteHooks = { ...base, ...(stage ? { stage } : {}), content: content ?? this.contentSession() };
    const access = this.deps.access;
    if (!access || !this.deps.audit) return hooks;
    const check = hooks.check;
    return {
      ...hooks,
      check: async (before, after) => {
        for (const r of [before, after]) if (r) trace.touch(r, access.facetsOf(r), r === after ? Number(r.meta?.versionId) || undefined : undefined);
        if (after) trace.stored = after;
        await check?.(before, after);
      },
    };
  }

  /** A write's result, remembered by the audit (and the created resource, for notifications). */
  written<T extends WriteResult>(trace: AuditTrace, result: T): T {
    const access = this.deps.access;
    if (access && this.deps.audit) {
      // The write hook already saw the version about to be stored (and touched it); a conditional create's existing match it did not.
      const seen = trace.stored;
      const same = seen?.id === result.resource.id && seen.resourceType === result.resource.type && seen.meta?.versionId === String(result.resource.versionId);
      const r = same ? (seen as Resource) : (JSON.parse(result.resource.json) as Resource);
      if (!same) trace.touch(r, access.facetsOf(r), result.resource.versionId);
      if (result.created) trace.created = r;
    }
    return result;
  }

  /** Versions returned by a search or history: the audit names them and their DMPs. */
  touchAll(trace: AuditTrace, versions: readonly VersionRecord[]): void {
    const access = this.deps.access;
    if (!access || !this.deps.audit) return;
    for (const v of versions) {
      if (v.json === null) {
        trace.touchRef(v.type, v.id);
      } else if (v.type === 'DocumentReference') {
        // A document is named by its title, unless hidden from the patient: its labels are needed.
        const { resource, facets } = access.judge(v);
        trace.touch(resource, facets, v.versionId);
      } else {
        trace.touchRef(v.type, v.id, patientsInJson(v.type, v.id, v.json), v.versionId);
      }
    }
  }

  /**
   * The current version of a resource the caller may see (possibly a
   * tombstone, 410 for the caller to decide); 404 when unknown or hidden,
   * with the same text, so a refusal never confirms that a resource exists.
   */
  async visibleCurrent(
    ctx: RequestContext,
    type: string,
    id: string,
    trace: AuditTrace,
    unknown = `Resource ${type}/${id} is not known`,
    versionId?: number,
  ): Promise<VersionRecord> {
    const current = await this.deps.store.readCurrent(type, id);
    if (!current) {
      trace.touchRef(type, id);
      throw errors.notFound(unknown);
    }
    if (this.deps.access) {
      // A deleted resource is judged by its last live version.
      const live = current.deleted ? await this.deps.store.readVersion(type, id, current.versionId - 1) : current;
      if (!live || live.deleted) {
        trace.touchRef(type, id);
        throw errors.notFound(unknown);
      }
      const own = await this.deps.access.readVerdict(ctx, live);
      // A Binary is read through the documents pointing to it (DMP-RULES.md § 4), and is never a 403.
      const verdict =
        type === 'Binary' ? await this.deps.access.binaryVerdict(ctx, own, await binaryDocuments(this.deps.store, id, this.deps.access.binaryDocumentIds(own.resource))) : own;
      // Named in the audit whether allowed or not: the patient's history shows refused attempts too.
      trace.touch(verdict.resource, verdict.facets, versionId ?? current.versionId);
      enforceRead(verdict, unknown);
    } else {
      trace.touchRef(type, id);
    }
    return current;
  }

  /** The content of the Binaries one interaction writes (see binary/content-session.ts). */
  contentSession(raw?: Readable): ContentSession {
    return new ContentSession(this.deps.store, this.deps.binaryMaxBytes ?? DEFAULT_BINARY_MAX_BYTES, raw);
  }

  /** Profiles and terminology, when loaded (501 otherwise). */
  conformance(): Conformance {
    if (!this.deps.conformance) {
      throw errors.notSupported('Profiles and terminology are not loaded on this server');
    }
    return this.deps.conformance;
  }
}

/** The database's momentary refusal is the client's "retry" (503), not a bug. */
export function storeRefusal(err: unknown): unknown {
  return err instanceof StoreUnavailable ? errors.unavailable() : err;
}

/** `GET Type?a=b` as the AuditEvent's query entity records it. */
export function searchQuery(path: string, params: readonly [string, string][]): string {
  const q = new URLSearchParams(params as [string, string][]).toString();
  return `GET ${path}${q ? `?${q}` : ''}`;
}

function isCreated(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { created?: unknown }).created === true;
}
