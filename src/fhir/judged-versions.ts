import type { Resource } from '@medplum/fhirtypes';
import type { AccessFacets } from '../access/facets';
import type { VersionRecord } from '../store/port';

/** Types whose read decision or audit needs more of the resource than its facets (names, securityContext). */
const KEPT_WHOLE = new Set(['DocumentReference', 'Binary']);

/** A version as the read rules judge it. */
export interface JudgedVersion {
  /**
   * The resource for DocumentReference and Binary (the audit names a
   * document by its title; a Binary's securityContext names its
   * documents); for any other type only its `resourceType` and `id`,
   * which is all the audit and the rules take from it (they decide on the
   * facets).
   */
  resource: Resource;
  facets: AccessFacets;
}

interface Entry extends JudgedVersion {
  json: string;
}

/**
 * The facets of recently read versions, so that reading the same version
 * again (the common case: a hot record read by many) neither parses its
 * JSON nor walks it again. Sound because a version's facets are a pure
 * function of its JSON text and of the matrix, fixed at start-up: an entry
 * is used only when the stored text is the very text it was computed from
 * (compared in full, so a purged and re-created id can never reuse the
 * facets of its former content). Bounded in entries and in characters
 * (the oldest entry goes first); a very large version is not kept.
 * @see https://hl7.org/fhir/R4/http.html#read
 */
export class JudgedVersions {
  private readonly entries = new Map<string, Entry>();
  /** JSON characters held by the entries (each also holds its parsed form: documents whole). */
  private chars = 0;

  constructor(
    private readonly facetsOf: (resource: Resource) => AccessFacets,
    private readonly limit = 50_000,
    /** Above this, a version is judged but not kept (a document with its content inline can weigh megabytes). */
    private readonly maxEntryChars = 64 * 1024,
    /**
     * Bound on the JSON characters kept in all, with their parsed forms (24 M:
     * some 30,000 everyday resources, 25-50 MB). Entries go oldest first, so a
     * workload cycling through more than that gets no hit at all: the bound is
     * set above the hot set of a busy DMP server, not tight.
     */
    private readonly maxChars = 24 * 1024 * 1024,
  ) {}

  /** The judged form of a live version (its JSON must be present). */
  of(v: VersionRecord): JudgedVersion {
    const json = v.json as string;
    const key = `${v.type}/${v.id}/${v.versionId}`;
    const hit = this.entries.get(key);
    if (hit && hit.json === json) return hit;
    const parsed = JSON.parse(json) as Resource;
    const facets = this.facetsOf(parsed);
    const resource = KEPT_WHOLE.has(v.type) ? parsed : ({ resourceType: parsed.resourceType, id: parsed.id } as Resource);
    const entry: Entry = { json, resource, facets };
    if (hit) this.drop(key, hit);
    if (json.length > this.maxEntryChars) return entry;
    while (this.entries.size > 0 && (this.entries.size >= this.limit || this.chars + json.length > this.maxChars)) {
      const [oldest, e] = this.entries.entries().next().value as [string, Entry];
      this.drop(oldest, e);
    }
    this.entries.set(key, entry);
    this.chars += json.length;
    return entry;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.chars -= e.json.length;
  }
}
