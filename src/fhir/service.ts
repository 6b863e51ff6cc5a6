import type { Bundle, Coding, OperationOutcome, OperationOutcomeIssue, Parameters, Resource, ValueSet } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { StoreUnavailable, type ResourceStore, type VersionRecord } from '../store/port';
import type { RequestContext } from './context';
import { isStoredResourceType, loadDefinitions } from './definitions';
import { historyBundleJson, parseHistoryParams, type PageLimits } from './history';
import { newId } from './ids';
import { Interaction } from './interactions';
import { errors } from './outcomes';
import { requireMatchingId, requireResource } from './resource-body';
import type { IndexEntry } from './search/index-entry';
import { SearchRunner } from './search-runner';
import { storedResource, type StoredResource } from './versioning';
import { ResourceWriter, type DeleteResult, type WriteOptions, type WriteResult } from './writer';
import type { Conformance } from './profiles/conformance';
import { searchConformance } from './profiles/conformance-search';
import type { ValidateRequest } from './profiles/operations';
import type { ExpandParams } from './profiles/terminology-ops';

export type { DeleteResult, WriteOptions, WriteResult } from './writer';

/** What the service needs; built once at start-up (see app.ts). */
export interface ServiceDeps {
  store: ResourceStore;
  /** Base R4 validation (src/fhir/validation). */
  validator: { validate(resource: Resource): OperationOutcomeIssue[] };
  /** Search index extraction (src/fhir/search/extract). */
  indexer: { extract(resource: Resource): IndexEntry[] };
  limits: PageLimits;
  /** Profiles, $validate and terminology operations (src/fhir/profiles). */
  conformance?: Conformance;
  /** Clock, in epoch ms (tests may fix it). */
  now?: () => number;
}

/**
 * THE door to data. Every interaction (read, vread, search, history, create,
 * update, patch, delete, and their conditional forms) is a public method taking
 * the request context first; routes, bundles and operations never reach the
 * store any other way. Each public method runs through {@link perform}, the one
 * place where authorization and audit (DMP-RULES.md) wrap every interaction
 * exactly once; its collaborators (ResourceWriter, SearchRunner) reuse storage
 * without doing it twice.
 * @see https://hl7.org/fhir/R4/http.html
 */
export class FhirService {
  private readonly search: SearchRunner;
  private readonly writer: ResourceWriter;

  constructor(private readonly deps: ServiceDeps) {
    this.search = new SearchRunner(deps.store, deps.limits);
    this.writer = new ResourceWriter({ ...deps, now: deps.now ?? Date.now });
  }

  /**
   * Runs one interaction for the caller. Access decisions and the AuditEvent
   * of the interaction are to be added here, and only here.
   */
  private async perform<T>(_ctx: RequestContext, _interaction: Interaction, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      // The database's momentary refusal is the client's "retry", not a bug.
      throw err instanceof StoreUnavailable ? errors.unavailable() : err;
    }
  }

  /** @see https://hl7.org/fhir/R4/http.html#read */
  read(ctx: RequestContext, type: string, id: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.read, async () => {
      const current = await this.deps.store.readCurrent(type, id);
      if (!current) {
        throw errors.notFound(`Resource ${type}/${id} is not known`);
      }
      if (current.deleted) {
        throw errors.gone(`Resource ${type}/${id} has been deleted`);
      }
      return storedResource(current);
    });
  }

  /** @see https://hl7.org/fhir/R4/http.html#vread */
  vread(ctx: RequestContext, type: string, id: string, versionId: string): Promise<StoredResource> {
    return this.perform(ctx, Interaction.vread, async () => {
      const v = /^[1-9]\d{0,9}$/.test(versionId) ? await this.deps.store.readVersion(type, id, Number(versionId)) : undefined;
      if (!v) {
        throw errors.notFound(`Version ${versionId} of ${type}/${id} is not known`);
      }
      if (v.deleted) {
        throw errors.gone(`Version ${versionId} of ${type}/${id} is a deletion`);
      }
      return storedResource(v);
    });
  }

  /**
   * Create with a server-assigned id; with `ifNoneExist` (a search query), an
   * existing single match is returned instead (200), several matches are 412.
   * @see https://hl7.org/fhir/R4/http.html#create
   * @see https://hl7.org/fhir/R4/http.html#ccreate
   */
  create(ctx: RequestContext, type: string, body: unknown, opts: { ifNoneExist?: [string, string][] } = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.create, async () => {
      const resource = requireResource(body, type);
      if (opts.ifNoneExist) {
        const matches = await this.search.matches(type, opts.ifNoneExist, ctx.baseUrl);
        if (matches.length > 1) {
          throw errors.multipleMatches('If-None-Exist matched more than one resource');
        }
        if (matches.length === 1) {
          return { resource: storedResource(matches[0]), created: false };
        }
      }
      // The client's id, if any, is ignored: the server assigns ids on create.
      return { resource: await this.writer.create(type, newId(), resource), created: true };
    });
  }

  /**
   * Update, or create with the client's id when the resource does not exist.
   * @see https://hl7.org/fhir/R4/http.html#update
   */
  update(ctx: RequestContext, type: string, id: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.update, () => {
      const resource = requireResource(body, type);
      requireMatchingId(resource, id);
      return this.writer.update(type, id, resource, opts);
    });
  }

  /**
   * Conditional update: no match creates, one match is updated, several are 412.
   * @see https://hl7.org/fhir/R4/http.html#cond-update
   */
  conditionalUpdate(
    ctx: RequestContext,
    type: string,
    criteria: [string, string][],
    body: unknown,
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.perform(ctx, Interaction.update, async () => {
      const resource = requireResource(body, type);
      if (resource.id !== undefined) {
        requireMatchingId(resource, resource.id);
      }
      const match = await this.singleMatch(type, criteria, ctx.baseUrl, 'update');
      if (match && resource.id !== undefined && resource.id !== match.id) {
        throw errors.badRequest(`The resource id (${resource.id}) is not the id of the matching resource`, `${type}.id`);
      }
      return this.writer.update(type, match?.id ?? resource.id ?? newId(), resource, opts);
    });
  }

  /** @see https://hl7.org/fhir/R4/http.html#patch */
  patch(ctx: RequestContext, type: string, id: string, ops: Operation[], opts: WriteOptions = {}): Promise<WriteResult> {
    return this.perform(ctx, Interaction.patch, () => this.writer.patch(type, id, ops, opts));
  }

  /** Conditional patch: exactly one match is patched; none is 404, several 412. */
  conditionalPatch(
    ctx: RequestContext,
    type: string,
    criteria: [string, string][],
    ops: Operation[],
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.perform(ctx, Interaction.patch, async () => {
      const match = await this.singleMatch(type, criteria, ctx.baseUrl, 'patch');
      if (!match) {
        throw errors.notFound(`No ${type} matches the patch criteria`);
      }
      return this.writer.patch(type, match.id, ops, opts);
    });
  }

  /** Logical delete: a tombstone version; later reads answer 410. @see https://hl7.org/fhir/R4/http.html#delete */
  delete(ctx: RequestContext, type: string, id: string, opts: WriteOptions = {}): Promise<DeleteResult> {
    return this.perform(ctx, Interaction.delete, () => this.writer.delete(type, id, opts));
  }

  /** Conditional delete of a single match; no match deletes nothing (200), several are 412. */
  conditionalDelete(ctx: RequestContext, type: string, criteria: [string, string][]): Promise<DeleteResult> {
    return this.perform(ctx, Interaction.delete, async () => {
      const match = await this.singleMatch(type, criteria, ctx.baseUrl, 'delete');
      return match ? this.writer.delete(type, match.id, {}) : { deleted: false };
    });
  }

  /**
   * History of one resource, one type, or the whole system, newest first.
   * Returns the Bundle as JSON text.
   * @see https://hl7.org/fhir/R4/http.html#history
   */
  history(
    ctx: RequestContext,
    scope: { type?: string; id?: string },
    params: [string, string][],
    lenient = false,
  ): Promise<string> {
    return this.perform(ctx, Interaction.history, async () => {
      const hp = parseHistoryParams(params, this.deps.limits, lenient);
      if (scope.type && scope.id && !(await this.deps.store.readCurrent(scope.type, scope.id))) {
        throw errors.notFound(`Resource ${scope.type}/${scope.id} is not known`);
      }
      const page = await this.deps.store.history({ ...scope, since: hp.since, count: hp.count, cursor: hp.cursor });
      const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
      return historyBundleJson(ctx.baseUrl, path, hp, page);
    });
  }

  /**
   * Search over one type, or several (`types` from `_type` at system level).
   * Returns the searchset Bundle as JSON text.
   * @see https://hl7.org/fhir/R4/search.html
   */
  searchTypes(ctx: RequestContext, types: string[], params: [string, string][], opts: { lenient: boolean; path: string }): Promise<string> {
    return this.perform(ctx, Interaction.search, () => this.search.bundle(types, params, { ...opts, baseUrl: ctx.baseUrl }));
  }

  /**
   * System-level search: `_type=A,B` names the types (all stored types when
   * absent); an unknown type is 400.
   * @see https://hl7.org/fhir/R4/http.html#search
   */
  searchSystem(ctx: RequestContext, params: [string, string][], opts: { lenient: boolean }): Promise<string> {
    return this.perform(ctx, Interaction.search, () => {
      const named = params.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(',').map((t) => t.trim()));
      for (const t of named) {
        if (!isStoredResourceType(t)) {
          throw errors.badRequest(`Unknown resource type "${t}" in _type`, '_type');
        }
      }
      const types = named.length > 0 ? [...new Set(named)] : [...loadDefinitions().resourceTypes];
      const rest = params.filter(([k]) => k !== '_type');
      const linkParams: [string, string][] = named.length > 0 ? [['_type', types.join(',')]] : [];
      return this.search.bundle(types, rest, { lenient: opts.lenient, path: '', baseUrl: ctx.baseUrl, linkParams });
    });
  }

  /**
   * `$validate` (type level, or instance level: `id` validates the stored
   * resource when no resource is given). Never stores anything.
   * @see https://hl7.org/fhir/R4/resource-operation-validate.html
   */
  validate(ctx: RequestContext, req: ValidateRequest & { id?: string }): Promise<OperationOutcome> {
    return this.perform(ctx, Interaction.operation, async () => {
      let resource = req.resource;
      if (resource === undefined && req.id !== undefined && req.mode !== 'delete') {
        // The store directly, not this.read: one interaction, authorized and audited once.
        const current = await this.deps.store.readCurrent(req.type, req.id);
        if (!current || current.deleted) {
          throw errors.notFound(`Resource ${req.type}/${req.id} is not known`);
        }
        resource = JSON.parse(storedResource(current).json) as unknown;
      }
      return this.conformanceOps().validate({ ...req, resource });
    });
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-expand.html */
  expandValueSet(ctx: RequestContext, params: ExpandParams & { id?: string }): Promise<ValueSet> {
    return this.perform(ctx, Interaction.operation, async () => this.conformanceOps().expand(params));
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-validate-code.html */
  validateCode(ctx: RequestContext, url: string | undefined, codings: Coding[]): Promise<Parameters> {
    return this.perform(ctx, Interaction.operation, async () => this.conformanceOps().validateCode(url, codings));
  }

  /** @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html */
  lookupCode(ctx: RequestContext, system: string | undefined, code: string | undefined): Promise<Parameters> {
    return this.perform(ctx, Interaction.operation, async () => this.conformanceOps().lookup(system, code));
  }

  /**
   * Read of a conformance resource loaded from profiles/ or terminology/
   * (undefined when not among them: the store may hold it).
   * @see https://hl7.org/fhir/R4/http.html#read
   */
  readConformance(ctx: RequestContext, type: string, id: string): Promise<Resource | undefined> {
    return this.perform(ctx, Interaction.read, async () => this.conformanceOps().resources().find((r) => r.resourceType === type && r.id === id));
  }

  /** Search over the loaded conformance resources (see profiles/conformance-search.ts). */
  searchConformance(ctx: RequestContext, type: string, params: [string, string][]): Promise<Bundle> {
    return this.perform(ctx, Interaction.search, async () => searchConformance(this.conformanceOps().resources(), type, params, ctx.baseUrl));
  }

  private conformanceOps(): Conformance {
    if (!this.deps.conformance) {
      throw errors.notSupported('Profiles and terminology are not loaded on this server');
    }
    return this.deps.conformance;
  }

  // --- implementation, shared by the public methods (no authorization or audit here) ---

  /** The single current match of conditional criteria, undefined for none, 412 for several. */
  private async singleMatch(
    type: string,
    criteria: [string, string][],
    baseUrl: string,
    what: string,
  ): Promise<VersionRecord | undefined> {
    if (criteria.length === 0) {
      throw errors.badRequest(`A conditional ${what} needs search criteria`);
    }
    const matches = await this.search.matches(type, criteria, baseUrl);
    if (matches.length > 1) {
      throw errors.multipleMatches(`The conditional ${what} criteria match more than one resource`);
    }
    return matches[0];
  }
}
