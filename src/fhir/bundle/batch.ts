import { errors, FhirError } from '../outcomes';
import { nameEntry, parseEntry, processingOrder, type EntryRequest } from './entries';
import { referencesOf } from './references';
import { failedResult, responseBundle, type EntryResult, type ReturnPreference } from './response';
import { runEntry, type EntryRunner } from './run-entry';

/**
 * A batch: every entry on its own, through FhirService's public methods
 * (`runner`), so each has its own access decision and (with the audit
 * issue) its own AuditEvent. A failed entry answers its status and
 * OperationOutcome; the others stand. Entries run in the spec's order
 * (DELETE, POST, PUT/PATCH, GET) although they may not depend on each
 * other: references to another entry's `urn:` fullUrl, and conditional
 * references, are for transactions only, and fail their entry (400).
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
export async function runBatch(raw: readonly unknown[], runner: EntryRunner, prefer: ReturnPreference, baseUrl: string): Promise<string> {
  const results: EntryResult[] = new Array(raw.length);
  const parsed: EntryRequest[] = [];
  raw.forEach((entry, i) => {
    try {
      parsed.push(parseEntry(entry, i, baseUrl));
    } catch (err) {
      results[i] = failedResult(err);
    }
  });
  const urns = new Set(parsed.flatMap((e) => (e.fullUrl && /^urn:(uuid|oid):/i.test(e.fullUrl) ? [e.fullUrl] : [])));
  for (const e of processingOrder(parsed)) {
    try {
      const others = new Set([...urns].filter((u) => u !== e.fullUrl));
      const refs = referencesOf(e, others);
      if (refs.conditional) throw nameEntry(errors.badRequest('Conditional references are allowed in transactions only'), e.index);
      if (refs.local) throw nameEntry(errors.badRequest('Entries of a batch may not refer to each other: use a transaction'), e.index);
      results[e.index] = await runEntry(e, runner, prefer);
    } catch (err) {
      results[e.index] = failedResult(err instanceof FhirError ? nameEntry(err, e.index, `${e.method} ${e.url}`) : err);
    }
  }
  return responseBundle('batch', results);
}
