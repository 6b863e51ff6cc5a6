import type { Consent, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import { RPPS_SYSTEM } from '../access/codes';
import { consentFacts, consentFactsChangeAt, patientFacts, rppsOfReference, type ConsentFacts, type PatientFacts } from '../access/facts';
import type { ResourceStore, VersionRecord } from '../store/port';
import { humanNameText } from './human-name';
import { parseSearch } from './search/parse';

/** Writes to these types can change someone's rights. */
export const FACT_TYPES = ['Patient', 'Consent', 'Practitioner'] as const;

/** Cached entries before the caches are simply emptied (bounded memory). */
const MAX_CACHED = 20_000;
/** Upper bound on the Consents / Patients read for one fact (a DMP, a professional). */
const MAX_ROWS = 10_000;

/**
 * Loads and caches the facts access decisions need: per DMP (Patient,
 * médecin traitant, Consents) and per professional (the DMPs where they are
 * médecin traitant or named by a Consent). Every request first calls
 * {@link sync}: one indexed lookup of the store's change marker for
 * Patients, Consents and Practitioners; when another request, in this
 * process or another one on the same database, wrote one, the caches are
 * emptied, so a revocation applies from the next request. They are
 * emptied as well once a cached Consent's period starts or ends, so that
 * an authorisation stops (or starts) on time, not at the next write.
 */
export class AccessFacts {
  private marker: string | undefined;
  /** When the first cached Consent period starts or ends (epoch ms): the caches are emptied then. */
  private expiresAt = Infinity;
  private readonly patients = new Map<string, Promise<PatientFacts>>();
  private readonly candidates = new Map<string, Promise<string[]>>();
  private readonly derived = new Map<string, Promise<unknown>>();
  /** Patient ids by identifier (a search naming its patient by INS looks them up on every request). */
  private readonly byIdentifier = new Map<string, Promise<string[]>>();

  constructor(
    private readonly store: ResourceStore,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Empties the caches when a fact type was written since the last call, or a cached Consent period started or ended. */
  async sync(): Promise<void> {
    const marker = await this.store.changeMarker(FACT_TYPES);
    if (marker !== this.marker || this.now() >= this.expiresAt) {
      this.expiresAt = Infinity;
      this.patients.clear();
      this.candidates.clear();
      this.derived.clear();
      this.byIdentifier.clear();
      this.marker = marker;
    }
  }

  /** Facts of several DMPs. */
  async patientFacts(ids: readonly string[]): Promise<Map<string, PatientFacts>> {
    const out = new Map<string, PatientFacts>();
    if (ids.length === 1) {
      // The common case (one resource, one DMP): no Promise.all.
      return out.set(ids[0], await this.one(ids[0]));
    }
    await Promise.all(ids.map(async (id) => out.set(id, await this.one(id))));
    return out;
  }

  /**
   * The DMPs where a professional (by RPPS) is médecin traitant or is named
   * by an active Consent: the only DMPs a search without a patient may
   * return for them (their rights to each still decided per DMP).
   */
  professionalCandidates(rpps: string): Promise<string[]> {
    return cached(this.candidates, rpps, async () => {
      const id = `${RPPS_SYSTEM}|${rpps}`;
      const [gp, gpByRef, consents, consentsByRef] = await Promise.all([
        this.search('Patient', [['general-practitioner:identifier', id]]),
        this.search('Patient', [['general-practitioner:Practitioner.identifier', id]]),
        this.search('Consent', [['actor:identifier', id], ['status', 'active']]),
        this.search('Consent', [['actor:Practitioner.identifier', id], ['status', 'active']]),
      ]);
      const out = new Set<string>([...gp, ...gpByRef].map((v) => v.id));
      for (const v of [...consents, ...consentsByRef]) {
        const m = /^(?:.*\/)?Patient\/([^/]+)$/.exec((JSON.parse(v.json as string) as Consent).patient?.reference ?? '');
        if (m) out.add(m[1]);
      }
      return [...out];
    });
  }

  /**
   * The name of the professional holding an RPPS, from the directory
   * (`Dr Prénom NOM` of the first Practitioner carrying it), for the
   * access history; undefined when the directory does not know him.
   */
  professionalName(rpps: string): Promise<string | undefined> {
    return this.memo(`name|${rpps}`, async () => {
      const [v] = await this.search('Practitioner', [['identifier', `${RPPS_SYSTEM}|${rpps}`]]);
      return v?.json ? humanNameText((JSON.parse(v.json) as Practitioner).name) : undefined;
    });
  }

  /** A value computed from the facts (e.g. a caller's search restriction), kept until a fact changes. */
  memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    return cached(this.derived as Map<string, Promise<T>>, key, load);
  }

  /** `Practitioner/id` of the Practitioners carrying an RPPS. */
  practitionersWithRpps(rpps: string): Promise<string[]> {
    return cached(this.candidates, `#practitioners|${rpps}`, async () =>
      (await this.search('Practitioner', [['identifier', `${RPPS_SYSTEM}|${rpps}`]])).map((v) => `Practitioner/${v.id}`),
    );
  }

  /** Ids of the closed DMPs (inactive Patients). */
  closedPatients(): Promise<string[]> {
    return cached(this.candidates, '#closed', async () => (await this.search('Patient', [['active', 'false']])).map((v) => v.id));
  }

  /**
   * Ids of the live Patients with this identifier (`system|value`), kept
   * until a Patient is written (which may add, change or remove one).
   */
  patientsByIdentifier(identifier: string): Promise<string[]> {
    return cached(this.byIdentifier, identifier, async () => (await this.search('Patient', [['identifier', identifier]])).map((v) => v.id));
  }

  private one(id: string): Promise<PatientFacts> {
    return cached(this.patients, id, async () => {
      const current = await this.store.readCurrent('Patient', id);
      const patient = current && !current.deleted ? (JSON.parse(current.json as string) as Patient) : undefined;
      if (!patient) {
        return patientFacts(id, undefined, () => undefined, []);
      }
      const consents = (await this.search('Consent', [['patient', `Patient/${id}`], ['status', 'active']])).map(
        (v) => JSON.parse(v.json as string) as Consent,
      );
      const refs = [...(patient.generalPractitioner ?? []), ...consents.flatMap((c) => (c.provision?.actor ?? []).map((a) => a.reference))];
      const rppsOf = await this.practitionerRpps(refs);
      const now = this.now();
      for (const c of consents) this.expiresAt = Math.min(this.expiresAt, consentFactsChangeAt(c, now) ?? Infinity);
      const facts = consents.map((c) => consentFacts(c, rppsOf, now)).filter((c): c is ConsentFacts => !!c);
      return patientFacts(id, patient, rppsOf, facts);
    });
  }

  /** Resolves `Practitioner/x` references to the RPPS on those Practitioners. */
  private async practitionerRpps(refs: readonly (Reference | undefined)[]): Promise<(ref: Reference) => string | undefined> {
    const ids = new Set<string>();
    for (const r of refs) {
      const m = r && !rppsOfReference(r) ? /^(?:.*\/)?Practitioner\/([^/]+)$/.exec(r.reference ?? '') : null;
      if (m) ids.add(m[1]);
    }
    const byId = new Map<string, string>();
    if (ids.size > 0) {
      for (const v of await this.store.readMany('Practitioner', [...ids])) {
        const rpps = (JSON.parse(v.json as string) as Practitioner).identifier?.find((i) => i.system === RPPS_SYSTEM)?.value;
        if (rpps) byId.set(v.id, rpps);
      }
    }
    return (ref) => byId.get(/^(?:.*\/)?Practitioner\/([^/]+)$/.exec(ref.reference ?? '')?.[1] ?? '');
  }

  /** An internal, unrestricted search (facts are not shown to anyone). */
  private async search(type: string, params: [string, string][]): Promise<VersionRecord[]> {
    const { plan } = parseSearch([type], params, { baseUrl: 'urn:internal', defaultCount: MAX_ROWS, maxCount: MAX_ROWS, lenient: false });
    return (await this.store.search({ ...plan, total: false, include: [], revinclude: [], sort: [] })).matches;
  }
}

function cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    if (map.size >= MAX_CACHED) map.clear();
    p = load();
    // A failed load must not stay cached.
    p.catch(() => map.delete(key));
    map.set(key, p);
  }
  return p;
}
