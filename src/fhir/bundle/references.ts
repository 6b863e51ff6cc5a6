import type { EntryRequest } from './entries';

/**
 * References between the entries of a transaction, and conditional
 * references, found and rewritten in the entries' resources.
 * @see https://hl7.org/fhir/R4/http.html#trules
 * @see https://hl7.org/fhir/R4/bundle.html#references
 */

/** `Patient?identifier=...`: a conditional reference, resolved by a search. */
const CONDITIONAL = /^([A-Z][A-Za-z]+)\?(.+)$/;
/** `href="..."` / `src='...'` attributes of the XHTML narrative. */
const NARRATIVE_LINK = /(\s(?:href|src)\s*=\s*)(["'])([^"']*)\2/g;

/**
 * The `Type/id` each fullUrl of the Bundle stands for (`urn:uuid:`,
 * `urn:oid:`, or an absolute URL), once the ids are known.
 */
export type IdMap = Map<string, string>;

/** A conditional reference and its search: `type` and criteria. */
export interface ConditionalReference {
  text: string;
  type: string;
  criteria: [string, string][];
}

/** Calls `visit` on every string at a `reference` or `url` key, and every narrative `div`, at any depth (no recursion: any nesting is safe). */
function walk(root: unknown, visit: (holder: Record<string, unknown>, key: string, value: string) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const x of node) if (typeof x === 'object' && x !== null) stack.push(x);
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    const obj = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v === 'string') {
        if (k === 'reference' || k === 'url' || k === 'div') visit(obj, k, v);
      } else if (typeof v === 'object' && v !== null) {
        stack.push(v);
      }
    }
  }
}

/** Every distinct conditional reference (`Reference.reference` = `Type?criteria`) in the entries' resources and patches. */
export function conditionalReferences(entries: readonly EntryRequest[]): ConditionalReference[] {
  const found = new Map<string, ConditionalReference>();
  for (const e of entries) {
    walk([e.resource, e.patch], (_holder, key, value) => {
      const m = key === 'reference' ? CONDITIONAL.exec(value) : null;
      if (m && !found.has(value)) found.set(value, { text: value, type: m[1], criteria: [...new URLSearchParams(m[2])] });
    });
  }
  return [...found.values()];
}

/** Whether a resource (or patch) refers to one of the Bundle's fullUrls, or holds a conditional reference. */
export function referencesOf(e: EntryRequest, fullUrls: ReadonlySet<string>): { local: boolean; conditional: boolean } {
  let local = false;
  let conditional = false;
  walk([e.resource, e.patch], (_holder, key, value) => {
    if (key === 'div') {
      for (const m of value.matchAll(NARRATIVE_LINK)) if (fullUrls.has(m[3])) local = true;
      return;
    }
    if (fullUrls.has(value)) local = true;
    if (key === 'reference' && CONDITIONAL.test(value)) conditional = true;
  });
  return { local, conditional };
}

/** Whether an entry's resource or patch holds this exact reference (to name the entry a failed resolution belongs to). */
export function holdsReference(e: EntryRequest, reference: string): boolean {
  let found = false;
  walk([e.resource, e.patch], (_holder, key, value) => {
    if (key === 'reference' && value === reference) found = true;
  });
  return found;
}

/**
 * Rewrites, in place, every reference to a fullUrl of the Bundle (and every
 * resolved conditional reference) to the `Type/id` it now stands for:
 * `Reference.reference` at any depth, `Attachment.url` (and any other `url`
 * equal to a fullUrl: only such exact matches change), and `href` / `src`
 * attributes in the narrative.
 */
export function rewriteReferences(e: EntryRequest, ids: IdMap): void {
  walk([e.resource, e.patch], (holder, key, value) => {
    if (key === 'div') {
      const div = value.replace(NARRATIVE_LINK, (all, pre: string, q: string, link: string) => {
        const to = ids.get(link);
        return to === undefined ? all : `${pre}${q}${to}${q}`;
      });
      if (div !== value) holder[key] = div;
      return;
    }
    const to = ids.get(value);
    if (to !== undefined) holder[key] = to;
  });
}

/**
 * The keys a fullUrl is known by: itself, and for an absolute RESTful URL
 * (`http://server/fhir/Patient/123`) nothing more (references to it are
 * written in full). `urn:uuid:` and `urn:oid:` are the usual.
 */
export function isLocalIdentifier(fullUrl: string): boolean {
  return /^urn:(uuid|oid):/i.test(fullUrl) || /^https?:\/\//i.test(fullUrl);
}
