import type { VersionRecord } from '../../store/port';
import { errors, FhirError } from '../outcomes';
import type { WriteResult } from '../writer';
import { nameEntry, parseEntry, processingOrder, type EntryRequest } from './entries';
import { conditionalReferences, holdsReference, isLocalIdentifier, rewriteReferences, type IdMap } from './references';
import { failedResult, responseBundle, type EntryResult, type ReturnPreference } from './response';
import { isWrite, runEntry, type EntryRunner, type ResolvedEntry } from './run-entry';

/**
 * What a transaction needs beyond an entry runner: conditional matching as
 * the caller sees it (leaving out what the transaction deletes first), ids,
 * and the one commit of every prepared write. FhirService implements it
 * over its private paths (no second decision, no second audit).
 */
export interface TransactionPort extends EntryRunner {
  /** The single visible match of criteria, undefined for none; 412 for several. */
  matchOne(type: string, criteria: [string, string][], what: string, exclude: ReadonlySet<string>): Promise<VersionRecord | undefined>;
  ifNoneExist(type: string, criteria: [string, string][], exclude: ReadonlySet<string>): Promise<WriteResult | undefined>;
  newId(): string;
  /** The entry whose writes are being prepared (so that a conflict at commit names it). */
  beginEntry(index: number): void;
  /** Commits every prepared write at once (ResourceStore.writeAll); a conflict is a FhirError naming its entry. */
  commit(): Promise<void>;
  /** The entries, once parsed (so that a failure can still be described entry by entry). */
  parsed(entries: readonly ResolvedEntry[]): void;
}

/** The outcome of a transaction: the response Bundle, and each entry with its result (for the AuditEvents). */
export interface TransactionOutcome {
  json: string;
  entries: readonly ResolvedEntry[];
  results: readonly EntryResult[];
}

/**
 * A transaction, all or nothing:
 * 1. every entry is parsed (any malformed entry fails the whole);
 * 2. in the spec's order (DELETE, POST, PUT/PATCH, GET), each target is
 *    resolved: conditional deletes, creates (ifNoneExist), updates and
 *    patches find their match among what the caller may see, minus what
 *    this transaction deletes; creates get their ids;
 * 3. conditional references are resolved (none: 400, several: 412) and
 *    every reference to a fullUrl is rewritten to the id it stands for;
 * 4. the writes are prepared one by one through the same checks as single
 *    interactions, and committed together: any failure, here or at commit,
 *    is the answer (its status, an OperationOutcome naming the entry) and
 *    nothing is stored;
 * 5. GET entries (and `$lookup`) run once the writes are committed; their
 *    failures are reported in their entries (the writes stand).
 * @see https://hl7.org/fhir/R4/http.html#trules
 */
export async function runTransaction(raw: readonly unknown[], port: TransactionPort, prefer: ReturnPreference, baseUrl: string): Promise<TransactionOutcome> {
  const entries: ResolvedEntry[] = raw.map((entry, i) => parseEntry(entry, i, baseUrl));
  port.parsed(entries);
  const ordered = processingOrder(entries);
  const deleted = new Set<string>();
  const targets = new Map<string, number>();
  const ids: IdMap = new Map();
  for (const e of ordered) {
    await named(e, async () => {
      await resolveTarget(e, port, deleted, ids);
      const ref = targetOf(e);
      if (ref === undefined) return;
      if (targets.has(ref)) throw errors.badRequest(`${ref} is the target of entry ${targets.get(ref)} already: a resource may appear once in a transaction`);
      targets.set(ref, e.index);
    });
  }
  for (const ref of conditionalReferences(entries)) {
    const holder = entries.find((e) => holdsReference(e, ref.text)) ?? entries[0];
    await named(holder, async () => {
      if (ref.criteria.length === 0) throw errors.badRequest(`The conditional reference ${ref.text} has no criteria`);
      const match = await port.matchOne(ref.type, ref.criteria, 'reference', deleted);
      if (!match) throw errors.badRequest(`The conditional reference ${ref.text} matches no resource${ref.type === 'Patient' ? ': the patient is unknown (no DMP has this identifier)' : ''}`);
      ids.set(ref.text, `${ref.type}/${match.id}`);
    });
  }
  for (const e of entries) rewriteReferences(e, ids);

  const results: EntryResult[] = new Array(entries.length);
  for (const e of ordered.filter(isWrite)) {
    port.beginEntry(e.index);
    results[e.index] = await named(e, () => runEntry(e, port, prefer));
  }
  await port.commit();
  for (const e of ordered.filter((x) => !isWrite(x))) {
    results[e.index] = await runEntry(e, port, prefer).catch((err: unknown) => failedResult(err instanceof FhirError ? nameEntry(err, e.index) : err));
  }
  return { json: responseBundle('transaction', results), entries, results };
}

/** Fixes what an entry acts on, and records its fullUrl's meaning (see {@link runTransaction}, step 2). */
async function resolveTarget(e: ResolvedEntry, port: TransactionPort, deleted: Set<string>, ids: IdMap): Promise<void> {
  switch (e.method) {
    case 'DELETE':
      if (e.id === undefined) {
        const match = await port.matchOne(e.type, e.params, 'delete', deleted);
        if (match) e.id = match.id;
        else e.noMatch = true;
      }
      if (e.id !== undefined) deleted.add(`${e.type}/${e.id}`);
      break;
    case 'POST':
      if (e.operation) return;
      if (e.ifNoneExist) {
        e.existing = await port.ifNoneExist(e.type, e.ifNoneExist, deleted);
        e.ifNoneExist = undefined;
      }
      if (!e.existing) e.assignedId = port.newId();
      break;
    case 'PUT': {
      const body = e.resource as { id?: unknown };
      if (e.id === undefined) {
        const match = await port.matchOne(e.type, e.params, 'update', deleted);
        if (match && body.id !== undefined && body.id !== match.id) {
          throw errors.badRequest(`The resource id (${String(body.id)}) is not the id of the matching resource`, `${e.type}.id`);
        }
        e.id = match?.id ?? (typeof body.id === 'string' ? body.id : port.newId());
        e.params = [];
        // The match decided the id: the body carries it, as an update by id requires.
        body.id = e.id;
      }
      break;
    }
    case 'PATCH':
      if (e.id === undefined) {
        const match = await port.matchOne(e.type, e.params, 'patch', deleted);
        if (!match) throw errors.notFound(`No ${e.type} matches the patch criteria`);
        e.id = match.id;
        e.params = [];
      }
      break;
    default:
      return;
  }
  const ref = targetOf(e);
  if (e.fullUrl !== undefined && ref !== undefined && isLocalIdentifier(e.fullUrl)) ids.set(e.fullUrl, ref);
}

/** `Type/id` an entry writes (or, for a matched ifNoneExist, returns). */
function targetOf(e: ResolvedEntry): string | undefined {
  if (!isWrite(e)) return undefined;
  const id = e.existing?.resource.id ?? e.assignedId ?? e.id;
  return id === undefined ? undefined : `${e.type}/${id}`;
}

/** Runs a step of one entry; its refusal names the entry. */
async function named<T>(e: EntryRequest, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw err instanceof FhirError ? nameEntry(err, e.index, `${e.method} ${e.url}`) : err;
  }
}
