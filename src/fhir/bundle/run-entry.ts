import type { Parameters } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { Interaction } from '../interactions';
import { errors } from '../outcomes';
import { etag, type StoredResource } from '../versioning';
import type { DeleteResult, WriteOptions, WriteResult } from '../writer';
import type { EntryRequest } from './entries';
import { deletedResult, readResult, writtenResult, type EntryResult, type ReturnPreference } from './response';

/**
 * What an entry can ask of the server. A batch's runner is FhirService's
 * public methods (each entry decided and audited on its own); a
 * transaction's runs the same private paths with the writes collected for
 * one commit (FhirService.transaction).
 */
export interface EntryRunner {
  create(type: string, body: unknown, opts: { ifNoneExist?: [string, string][]; id?: string }): Promise<WriteResult>;
  update(type: string, id: string, body: unknown, opts: WriteOptions): Promise<WriteResult>;
  conditionalUpdate(type: string, criteria: [string, string][], body: unknown, opts: WriteOptions): Promise<WriteResult>;
  patch(type: string, id: string, ops: Operation[], opts: WriteOptions): Promise<WriteResult>;
  conditionalPatch(type: string, criteria: [string, string][], ops: Operation[], opts: WriteOptions): Promise<WriteResult>;
  delete(type: string, id: string, opts: WriteOptions): Promise<DeleteResult>;
  conditionalDelete(type: string, criteria: [string, string][]): Promise<DeleteResult>;
  read(type: string, id: string): Promise<StoredResource>;
  vread(type: string, id: string, versionId: string): Promise<StoredResource>;
  /** A searchset Bundle's JSON. */
  search(type: string, params: [string, string][]): Promise<string>;
  /** `CodeSystem/$lookup` (or `ValueSet/$lookup`, as the R4 transaction example writes it). */
  lookup(params: Parameters): Promise<Parameters>;
}

/** What a transaction decided for an entry before running it (FhirService.transaction). */
export interface EntryResolution {
  /** POST with ifNoneExist that matched: this resource is the answer, nothing is written. */
  existing?: WriteResult;
  /** POST: the id assigned before the references were rewritten. */
  assignedId?: string;
  /** Conditional DELETE that matched nothing. */
  noMatch?: boolean;
}

export type ResolvedEntry = EntryRequest & EntryResolution;

/** The interaction an entry performs (for scopes, and for its AuditEvent). */
export function interactionOf(e: EntryRequest): Interaction {
  switch (e.method) {
    case 'POST':
      return e.operation ? Interaction.operation : Interaction.create;
    case 'PUT':
      return Interaction.update;
    case 'PATCH':
      return Interaction.patch;
    case 'DELETE':
      return Interaction.delete;
    default:
      return e.vid !== undefined ? Interaction.vread : e.id !== undefined ? Interaction.read : Interaction.search;
  }
}

/** True for the entries that write (run before a transaction's commit); reads and `$lookup` run after it. */
export function isWrite(e: EntryRequest): boolean {
  return e.method !== 'GET' && e.method !== 'HEAD' && e.operation === undefined;
}

/**
 * Runs one entry and shapes its answer (`Bundle.entry.response`), with
 * `Prefer: return` applied. Errors are thrown (a FhirError): the batch
 * records them in the entry, the transaction fails with them.
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
export async function runEntry(e: ResolvedEntry, r: EntryRunner, prefer: ReturnPreference): Promise<EntryResult> {
  const opts = { ifMatch: e.ifMatch };
  switch (e.method) {
    case 'POST': {
      if (e.operation) return readResult(JSON.stringify(await r.lookup(e.resource as unknown as Parameters)));
      const res = e.existing ?? (await r.create(e.type, e.resource, { ifNoneExist: e.ifNoneExist, id: e.assignedId }));
      return writtenResult(res.resource, res.created, prefer);
    }
    case 'PUT': {
      const res = e.id !== undefined ? await r.update(e.type, e.id, e.resource, opts) : await r.conditionalUpdate(e.type, e.params, e.resource, opts);
      return writtenResult(res.resource, res.created, prefer);
    }
    case 'PATCH': {
      const ops = e.patch as Operation[];
      const res = e.id !== undefined ? await r.patch(e.type, e.id, ops, opts) : await r.conditionalPatch(e.type, e.params, ops, opts);
      return writtenResult(res.resource, false, prefer);
    }
    case 'DELETE': {
      if (e.noMatch) return deletedResult(undefined, 'No resource matched; nothing was deleted', prefer);
      const res = e.id !== undefined ? await r.delete(e.type, e.id, opts) : await r.conditionalDelete(e.type, e.params);
      const text = res.deleted ? `Deleted ${e.type}${e.id ? `/${e.id}` : ''}` : res.versionId !== undefined ? 'Already deleted' : 'No resource matched; nothing was deleted';
      return deletedResult(res.versionId, text, prefer);
    }
    default:
      return runRead(e, r);
  }
}

async function runRead(e: EntryRequest, r: EntryRunner): Promise<EntryResult> {
  if (e.id === undefined) {
    const json = await r.search(e.type, e.params);
    return e.method === 'HEAD' ? { status: 200 } : readResult(json);
  }
  if (e.params.length > 0) throw errors.badRequest('A read takes no query parameters');
  const found = e.vid !== undefined ? await r.vread(e.type, e.id, e.vid) : await r.read(e.type, e.id);
  // If-None-Match / If-Modified-Since: the client's copy is current. @see https://hl7.org/fhir/R4/http.html#cread
  const tags = (e.ifNoneMatch ?? '').split(',').map((t) => t.trim());
  const unchanged =
    tags.includes(etag(found.versionId)) ||
    tags.includes(`"${found.versionId}"`) ||
    (e.ifModifiedSince !== undefined && Date.parse(found.lastUpdated) <= Date.parse(e.ifModifiedSince));
  if (unchanged) return { status: 304, etag: etag(found.versionId), lastModified: found.lastUpdated };
  const result = readResult(found.json, found);
  return e.method === 'HEAD' ? { ...result, resource: undefined } : result;
}
