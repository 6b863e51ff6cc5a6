import type { Consent, Resource } from '@medplum/fhirtypes';
import { AccessParam, RPPS_SYSTEM } from '../access/codes';
import type { Principal } from '../auth/principal';
import { Reason, type Decision } from '../access/decision';
import { dmpAccess, REFUSED_ROLES, type DmpAccess } from '../access/dmp-access';
import { accessFacets, resourceClass, type AccessFacets } from '../access/facets';
import { principalKeyString, unknownPatient, type PatientFacts } from '../access/facts';
import type { AccessMatrix } from '../access/matrix';
import { accessHistoryRefusal, historyPatient, verifyAuditRefusal } from '../access/audit-history';
import { decideBinaryRead, securityContextDocuments } from '../access/binary';
import { decideRead, PATIENT_LOOKUP_ROLES } from '../access/read';
import { noPatientData, ownDocumentsExcept, ownSubmissions, searchRestriction, type AccessGroups } from '../access/search-filter';
import { decideRecordLife, decideWrite, type WriteRequest } from '../access/write';
import type { VersionRecord } from '../store/port';
import type { AccessFacts } from './access-facts';
import type { RequestContext } from './context';
import { JudgedVersions, type JudgedVersion } from './judged-versions';
import { errors } from './outcomes';
import type { Condition } from './search/plan';
import type { Restriction } from './search/restrict';
import { scopedPatients } from './search-scope';

/**
 * Applies the DMP access rules (src/access, pure) to requests: loads the
 * facts they need, turns decisions into 403 / 404 / 422, and turns the
 * caller's rights into search restrictions. Only FhirService uses it.
 * @see https://hl7.org/fhir/R4/security.html
 */
export class AccessGuard {
  /** Facets of the versions read recently (a hot record is not parsed again at each read). */
  private readonly judged = new JudgedVersions((r) => this.facetsOf(r));

  constructor(
    private readonly facts: AccessFacts,
    readonly matrix: AccessMatrix,
    /** Above this many DMPs, a médecin traitant's DMPs are a join in the query, not a list (see GpRelation). */
    private readonly listLimit = GP_LIST_LIMIT,
    /** The public base (BASE_URL): absolute references under it are local. */
    private readonly baseUrl = '',
  ) {}

  /** What the rules look at in a resource. */
  facetsOf(resource: Resource): AccessFacets {
    return accessFacets(resource, this.matrix);
  }

  /** A live version as the rules see it (facets, and the resource as JudgedVersion keeps it), computed once per version read. */
  judge(v: VersionRecord): JudgedVersion {
    return this.judged.of(v);
  }

  /** The directory name of the calling professional, for the audit (cached until a fact changes). */
  agentName(ctx: RequestContext): Promise<string | undefined> {
    const rpps = ctx.principal?.rpps;
    return rpps ? this.facts.professionalName(rpps) : Promise.resolve(undefined);
  }

  /** Called once at the start of every request that needs facts. */
  sync(): Promise<void> {
    return this.facts.sync();
  }

  /**
   * The read decision on a live version, with the resource and what the
   * rules looked at in it: the audit names the resource and its DMP whether
   * the read is allowed or not. {@link enforceRead} applies it.
   */
  async readVerdict(ctx: RequestContext, v: VersionRecord): Promise<ReadVerdict> {
    const { resource, facets } = this.judge(v);
    const factsOf = await this.factsFor(facets.patients);
    return { resource, facets, decision: decideRead(principalOf(ctx), facets, factsOf, this.matrix) };
  }

  /**
   * The read verdict on a Binary (DMP-RULES.md § 4; access/binary.ts): its
   * own verdict (the uploader), or that of a document pointing to it, whose
   * patients and labels it then carries (the audit names the document's
   * DMP). `documents` are the current DocumentReferences found for it
   * ({@link binaryDocumentIds} names those of its securityContext).
   */
  async binaryVerdict(ctx: RequestContext, own: ReadVerdict, documents: readonly VersionRecord[]): Promise<ReadVerdict> {
    const verdicts = await Promise.all(documents.map((d) => this.readVerdict(ctx, d)));
    const binary = { creator: own.facets.creator, securityContext: this.binaryDocumentIds(own.resource) };
    const docs = verdicts.map((v) => ({ id: v.resource.id as string, creator: v.facets.creator, decision: v.decision }));
    const { decision, via } = decideBinaryRead(own.decision, binary, docs);
    const through = via !== undefined ? verdicts[via] : undefined;
    const facets = through ? { ...own.facets, patients: through.facets.patients, labels: through.facets.labels } : own.facets;
    return { resource: own.resource, facets, decision };
  }

  /** Ids of the DocumentReferences a Binary's securityContext names. */
  binaryDocumentIds(binary: Resource): string[] {
    return securityContextDocuments(binary, this.baseUrl);
  }

  /**
   * The restriction of a search. A search naming patients (`patient=`,
   * `subject=`, their INS) is 403 when the caller has no right to one of
   * those DMPs; any other search returns only what the caller may see in
   * the DMPs they have a right to. A Patient search by INS is open to the
   * lookup roles (DMP-RULES.md § 5), but its chains and `_has` are not.
   */
  async searchRestriction(
    ctx: RequestContext,
    types: readonly string[],
    params: readonly [string, string][],
    onScoped?: (patients: readonly string[]) => void,
  ): Promise<Restriction> {
    const p = principalOf(ctx);
    const scoped = await scopedPatients(types, params, (ins) => this.facts.patientsByIdentifier(ins));
    if (scoped) onScoped?.(scoped);
    // Chains (`a.b=`) and `_has` look at other resources: only they need the caller's whole restriction.
    const nested = params.some(([k]) => k.includes('.') || k.startsWith('_has'));
    const whole = nested || !scoped ? await this.restrictionFor(p, undefined) : undefined;
    const named = scoped ? await this.restrictionFor(p, scoped) : undefined;
    // Includes of a search naming patients stay within those DMPs (and the directory): stricter, and cheap.
    const includes = params.some(([k]) => k.startsWith('_include') || k.startsWith('_revinclude')) ? (named ?? whole) : undefined;
    if (types.length === 1 && types[0] === 'Patient' && PATIENT_LOOKUP_ROLES.has(p.role) && params.some(([k]) => k === 'identifier' || k === '_id')) {
      return { top: [[]], inner: whole, includes: includes ?? (await this.restrictionFor(p, undefined)) };
    }
    return { top: forTypes((named ?? whole) as Condition[][], types), inner: whole, includes };
  }

  /**
   * A search that names AuditEvent (alone or in `_type`) reads the access
   * history: 403 for all but the patient and the representatives.
   */
  checkNamedTypes(ctx: RequestContext, named: readonly string[]): void {
    const refused = named.includes('AuditEvent') ? accessHistoryRefusal(principalOf(ctx)) : undefined;
    if (refused) throw forbidden(refused);
  }

  /** The patient whose access history the caller reads (403 for anyone else, or another patient). */
  historyPatient(ctx: RequestContext, requested: string | undefined): string {
    const r = historyPatient(principalOf(ctx), requested);
    if ('refused' in r) throw forbidden(r.refused);
    return r.patient;
  }

  /** Throws unless the caller may verify this DMP's audit chain (`$verify-audit`). */
  checkVerifyAudit(ctx: RequestContext, patientId: string): void {
    const refused = verifyAuditRefusal(principalOf(ctx), patientId);
    if (refused) throw forbidden(refused);
  }

  /** History of a type or the system: versions of resources the caller may see now. */
  async historyRestriction(ctx: RequestContext): Promise<Condition[]> {
    return [{ kind: 'anyOf', alternatives: await this.restrictionFor(principalOf(ctx), undefined) }];
  }

  /** Throws unless the write is allowed (403, 404 for a hidden target, 422 for an unknown patient). */
  async checkWrite(ctx: RequestContext, w: { op: WriteRequest['op']; before?: Resource; after?: Resource }, notFoundText: string): Promise<void> {
    const p = principalOf(ctx);
    const before = w.before && this.facetsOf(w.before);
    const after = w.after && this.facetsOf(w.after);
    const factsOf = await this.factsFor([...(before?.patients ?? []), ...(after?.patients ?? [])]);
    const selfPermit = w.after?.resourceType === 'Consent' && isSelfPermit(w.after, p);
    const statusChange = w.before?.resourceType === 'DocumentReference' && !!w.after && w.before.status !== (w.after as { status?: string }).status;
    enforce(decideWrite(p, { op: w.op, before, after, selfPermit, statusChange }, factsOf, this.matrix), notFoundText, 'write');
  }

  /** Throws unless the caller may close or reopen this DMP (404 when there is no such Patient). */
  async checkRecordLife(ctx: RequestContext, patientId: string): Promise<void> {
    const facts = (await this.facts.patientFacts([patientId])).get(patientId) ?? unknownPatient(patientId);
    const d = decideRecordLife(principalOf(ctx), facts);
    if (d.effect === 'deny' && d.reason === Reason.unknownPatient) throw errors.notFound(`Resource Patient/${patientId} is not known`);
    enforce(d, `Resource Patient/${patientId} is not known`, 'read');
  }

  private async factsFor(ids: readonly string[]): Promise<(id: string) => PatientFacts> {
    const map = await this.facts.patientFacts([...new Set(ids)]);
    return (id) => map.get(id) ?? unknownPatient(id);
  }

  /**
   * DNF restriction for a principal: over the named DMPs (403 when one is
   * refused), or over every DMP they may have a right to.
   */
  private async restrictionFor(p: Principal, scoped: readonly string[] | undefined): Promise<Condition[][]> {
    if (REFUSED_ROLES.has(p.role)) {
      throw forbidden(Reason.refusedRole);
    }
    if (!scoped && p.role === 'feeder') return ownSubmissions(p);
    if (!scoped && (p.role === 'admin' || p.role === 'assurance-maladie')) return noPatientData();
    // Everything of the principal that the restriction depends on (dmpAccess, searchRestriction, creatorIs).
    const key = [p.role, principalKeyString(p), p.profession, p.purposeOfUse, p.patient].join('|');
    if (!scoped) {
      // Over every DMP of the caller (a médecin traitant may have thousands): built once per caller, until a fact changes.
      return this.facts.memo(`restriction|${key}`, () => this.build(p, undefined));
    }
    // Over the DMPs a search names (usually one): kept as well, so that a caller's repeated searches
    // carry the same restriction, which the stores compile once (a refusal is not kept: see AccessFacts.memo).
    return scoped.length <= MEMO_SCOPED_MAX ? this.facts.memo(`restriction|${key}|${scoped.join('|')}`, () => this.build(p, scoped)) : this.build(p, scoped);
  }

  private async build(p: Principal, scoped: readonly string[] | undefined): Promise<Condition[][]> {
    const ids = scoped ?? (await this.candidates(p));
    const facts = await this.facts.patientFacts(ids);
    const groups = new Map<Exclude<DmpAccess['level'], 'none'>, string[]>();
    const blockedMe: string[] = [];
    for (const id of ids) {
      const access = dmpAccess(p, facts.get(id) ?? unknownPatient(id));
      if (access.level === 'none') {
        if (scoped) throw forbidden(access.reason);
        if (access.reason === Reason.blocked) blockedMe.push(id);
        continue;
      }
      const group = groups.get(access.level);
      if (group) group.push(id);
      else groups.set(access.level, [id]);
    }
    const full = groups.get('full') ?? [];
    const gp = !scoped && p.rpps && full.length > this.listLimit ? { rpps: p.rpps, practitioners: await this.facts.practitionersWithRpps(p.rpps), blocked: blockedMe } : undefined;
    const restriction = searchRestriction(p, groups as AccessGroups, this.matrix, gp);
    if (!scoped && (p.role === 'professional' || p.role === 'regulator')) {
      restriction.push(ownDocumentsExcept(p, [...blockedMe, ...(await this.facts.closedPatients())]));
    }
    return restriction;
  }

  private async candidates(p: Principal): Promise<string[]> {
    if (p.role === 'patient' || p.role === 'representative') return p.patient ? [p.patient] : [];
    if ((p.role === 'professional' || p.role === 'regulator') && p.rpps) return this.facts.professionalCandidates(p.rpps);
    return [];
  }
}

/** Restrictions over at most this many named DMPs are memoized (longer lists would make long keys for rare searches). */
const MEMO_SCOPED_MAX = 8;

/** A list of a few hundred DMPs is cheap in a query; thousands are not. */
export const GP_LIST_LIMIT = 200;

/**
 * A restriction simplified for the searched types: all patient data, the
 * "no patient" alternative can never hold (its probe is skipped on every
 * row); no patient data at all, only that alternative matters.
 */
function forTypes(alternatives: Condition[][], types: readonly string[]): Condition[][] {
  const classes = new Set(types.map(resourceClass));
  // The same simplification of the same (memoized) restriction is the same list, so that stores compile it once.
  const key = [...classes].sort().join('|');
  let byClasses = SIMPLIFIED.get(alternatives);
  const hit = byClasses?.get(key);
  if (hit) return hit;
  const simplified = simplifiedForClasses(alternatives, classes);
  if (!byClasses) SIMPLIFIED.set(alternatives, (byClasses = new Map()));
  byClasses.set(key, simplified);
  return simplified;
}

/** forTypes' results by restriction (identity) and set of resource classes; weak, so they go with the restriction. */
const SIMPLIFIED = new WeakMap<Condition[][], Map<string, Condition[][]>>();

function simplifiedForClasses(alternatives: Condition[][], classes: ReadonlySet<string>): Condition[][] {
  const isNoPatient = (alt: Condition[]) => alt.length === 1 && alt[0].kind === 'entry' && alt[0].param === AccessParam.patient && alt[0].negate === true;
  if (!classes.has('patient-data')) {
    return alternatives.some(isNoPatient) ? [[]] : [];
  }
  return classes.size === 1 ? alternatives.filter((alt) => !isNoPatient(alt)) : alternatives;
}

/** A Consent that permits exactly the calling professional (DMP-RULES.md § 5: recording the patient's consent for oneself). */
function isSelfPermit(consent: Resource, p: Principal): boolean {
  const c = consent as Consent;
  const actors = c.provision?.actor ?? [];
  return (
    c.provision?.type === 'permit' &&
    actors.length > 0 &&
    !!p.rpps &&
    actors.every((a) => a.reference?.identifier?.system === RPPS_SYSTEM && a.reference.identifier.value === p.rpps) &&
    !c.provision.provision
  );
}

function principalOf(ctx: RequestContext): Principal {
  if (!ctx.principal) {
    throw errors.unauthorized();
  }
  return ctx.principal;
}

function forbidden(reason: Reason) {
  return errors.forbidden(`Access to this record is refused (${reason})`);
}

/** A read decision and what it was taken on (see AccessGuard.readVerdict; `resource` as in JudgedVersion). */
export interface ReadVerdict extends JudgedVersion {
  decision: Decision;
}

/** Throws the refusal of a read verdict (403, or 404 as if unknown). */
export function enforceRead(v: ReadVerdict, notFoundText: string): void {
  enforce(v.decision, notFoundText, 'read');
}

/** A refusal as the client sees it: hidden resources look unknown; an unknown patient is a business-rule failure. */
function enforce(d: Decision, notFoundText: string, mode: 'read' | 'write'): void {
  if (d.effect === 'hide') throw errors.notFound(notFoundText);
  if (d.effect === 'deny') {
    if (d.reason === Reason.unknownPatient && mode === 'write') throw errors.unprocessable('The resource must belong to the DMP of a known patient');
    throw forbidden(d.reason);
  }
}
