import type { AuditTrace } from '../../audit/trace';
import type { RequestContext } from '../context';
import { isStoredResourceType, loadDefinitions } from '../definitions';
import { historyBundleJson, parseHistoryParams } from '../history';
import { Interaction } from '../interactions';
import { errors } from '../outcomes';
import { checkScopes } from '../scope-check';
import type { AccessHistoryReads } from './access-history';
import { searchQuery, type ServiceDoor } from './door';

/** Search options as a route passes them; `baseUrl` and the links' extra parameters are added here. */
interface BundleOptions {
  lenient: boolean;
  path: string;
  baseUrl: string;
  linkParams?: [string, string][];
}

/**
 * Search and history, below the door (no audit here): the access
 * restriction goes inside the store's query, so totals and paging only ever
 * count what the caller may see, and the versions returned are named in the
 * interaction's trace. `GET AuditEvent?...` is the access history.
 * @see https://hl7.org/fhir/R4/search.html
 * @see https://hl7.org/fhir/R4/http.html#history
 */
export class SearchInteractions {
  constructor(
    private readonly door: ServiceDoor,
    private readonly auditEvents: AccessHistoryReads,
  ) {}

  /** History of one resource, one type, or the whole system, limited to what the caller may see now. */
  async history(ctx: RequestContext, trace: AuditTrace, scope: { type?: string; id?: string }, params: [string, string][], lenient: boolean): Promise<string> {
    const { access, limits, store } = this.door.deps;
    trace.level = scope.id ? 'instance' : scope.type ? 'type' : 'system';
    const hp = parseHistoryParams(params, limits, lenient);
    if (scope.type === 'AuditEvent' && this.auditEvents.active) {
      access?.checkNamedTypes(ctx, ['AuditEvent']);
      // An AuditEvent has one version and is never changed: its "history" is the access history itself.
      throw errors.notSupported('AuditEvents have no version history: read the access history with GET AuditEvent?patient=Patient/{id}');
    }
    let where;
    if (scope.type && scope.id) {
      await this.door.visibleCurrent(ctx, scope.type, scope.id, trace);
    } else if (access) {
      if (scope.type) access.checkNamedTypes(ctx, [scope.type]);
      where = await access.historyRestriction(ctx);
    }
    const page = await store.history({ ...scope, since: hp.since, count: hp.count, cursor: hp.cursor, where });
    if (!scope.id) this.door.touchAll(trace, page.entries);
    const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
    return historyBundleJson(ctx.baseUrl, path, hp, page);
  }

  /** Search over one type, or several (`_type` at system level, already resolved). */
  searchTypes(ctx: RequestContext, trace: AuditTrace, types: string[], params: [string, string][], opts: { lenient: boolean; path: string }): Promise<string> {
    trace.query = searchQuery(opts.path, params);
    this.door.deps.access?.checkNamedTypes(ctx, types);
    if (types.length === 1 && types[0] === 'AuditEvent' && this.auditEvents.active) return this.auditEvents.search(ctx, trace, params, opts.lenient);
    return this.bundle(ctx, trace, types, params, { ...opts, baseUrl: ctx.baseUrl });
  }

  /** System-level search: `_type=A,B` names the types (all stored types when absent); an unknown type is 400. */
  searchSystem(ctx: RequestContext, trace: AuditTrace, params: [string, string][], opts: { lenient: boolean }): Promise<string> {
    trace.level = 'system';
    trace.query = searchQuery('', params);
    const named = params.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(',').map((t) => t.trim()));
    for (const t of named) {
      if (!isStoredResourceType(t)) {
        throw errors.badRequest(`Unknown resource type "${t}" in _type`, '_type');
      }
    }
    const types = named.length > 0 ? [...new Set(named)] : [...loadDefinitions().resourceTypes];
    const access = this.door.deps.access;
    if (access && ctx.principal) {
      // The door checked the system-level scope; the types named are checked now that they are known.
      checkScopes(ctx.principal.scopes, Interaction.search, named.length > 0 ? types : []);
      access.checkNamedTypes(ctx, named);
    }
    const rest = params.filter(([k]) => k !== '_type');
    const linkParams: [string, string][] = named.length > 0 ? [['_type', types.join(',')]] : [];
    return this.bundle(ctx, trace, types, rest, { lenient: opts.lenient, path: '', baseUrl: ctx.baseUrl, linkParams });
  }

  /** The searchset Bundle, restricted to what the caller may see (a transaction's search entries come here too). */
  async bundle(ctx: RequestContext, trace: AuditTrace, types: string[], params: [string, string][], opts: BundleOptions): Promise<string> {
    const access = this.door.deps.access;
    if (!access) {
      return this.door.search.bundle(types, params, opts);
    }
    // Matches, chains, _has and includes are all restricted inside the store's queries.
    const restriction = await access.searchRestriction(ctx, types, params, (patients) => patients.forEach((p) => trace.patient(p)));
    return this.door.search.bundle(types, params, {
      ...opts,
      restriction,
      observe: this.door.deps.audit ? (page) => this.door.touchAll(trace, [...page.matches, ...page.included]) : undefined,
    });
  }
}
