import type { Resource } from '@medplum/fhirtypes';
import { dmpAccess, REFUSED_ROLES, type DmpAccess } from '../../src/access/dmp-access';
import { accessFacets, accessIndexEntries } from '../../src/access/facets';
import { unknownPatient, type PatientFacts } from '../../src/access/facts';
import { decideRead, PATIENT_LOOKUP_ROLES } from '../../src/access/read';
import { noPatientData, ownDocumentsExcept, ownSubmissions, searchRestriction } from '../../src/access/search-filter';
import type { Principal } from '../../src/auth/principal';
import type { IndexEntry } from '../../src/fhir/search/index-entry';
import type { Comparison, Condition } from '../../src/fhir/search/plan';
import { doc, facts, Label, matrix, principal, pro, RPPS, structured } from './helpers';

/** Evaluates restriction conditions (entry and anyOf kinds) over index entries, as a store would. */
function holds(c: Condition, entries: IndexEntry[]): boolean {
  if (c.kind === 'anyOf') return c.alternatives.some((alt) => alt.every((x) => holds(x, entries)));
  if (c.kind !== 'entry') throw new Error(`unexpected ${c.kind}`);
  const found = entries.some(
    (e) => e.kind === c.entryKind && e.param === c.param && c.predicate.some((conj) => conj.every((cmp) => compare(e as never, cmp))),
  );
  return c.negate ? !found : found;
}

function compare(e: Record<string, unknown>, cmp: Comparison): boolean {
  const v = e[cmp.field];
  if (cmp.op === 'eq') return v === cmp.value;
  if (cmp.op === 'in') return (cmp.value as unknown[]).includes(v);
  throw new Error(`unexpected op ${cmp.op}`);
}

const DMPS: Record<string, PatientFacts> = {
  p1: facts({ patientId: 'p1' }),
  p2: facts({ patientId: 'p2', gp: [RPPS.pharmacist], permitted: [RPPS.gp], blocked: [RPPS.dietitian] }),
  p3: facts({ patientId: 'p3', closed: true, permitted: [RPPS.pharmacist] }),
  p4: facts({ patientId: 'p4', opposed: ['bris_de_glace'], permitted: [] }),
};
const factsOf = (id: string) => DMPS[id] ?? unknownPatient(id);

function restrictionOf(p: Principal): Condition[][] {
  if (p.role === 'feeder') return ownSubmissions(p);
  if (p.role === 'admin' || p.role === 'assurance-maladie') return noPatientData();
  const groups = new Map<Exclude<DmpAccess['level'], 'none'>, string[]>();
  for (const id of Object.keys(DMPS)) {
    const a = dmpAccess(p, DMPS[id]);
    if (a.level !== 'none') groups.set(a.level, [...(groups.get(a.level) ?? []), id]);
  }
  const out = searchRestriction(p, groups, matrix);
  if (p.role === 'professional' || p.role === 'regulator') {
    const excluded = Object.values(DMPS).filter((f) => f.closed || (p.rpps && f.blocked.has(p.rpps))).map((f) => f.patientId);
    out.push(ownDocumentsExcept(p, excluded));
  }
  return out;
}

const PRINCIPALS: Principal[] = [
  principal({ role: 'patient', patient: 'p1' }),
  principal({ role: 'representative', patient: 'p2' }),
  pro(RPPS.gp, '10'),
  pro(RPPS.pharmacist, '21'),
  pro(RPPS.dietitian, '95'),
  pro(RPPS.other, '40'),
  pro(RPPS.emergency, '60', 'bris_de_glace'),
  principal({ role: 'regulator', rpps: RPPS.regulator, purposeOfUse: 'centre_15' }),
  principal({ role: 'feeder', sub: 'lab' }),
  principal({ role: 'assurance-maladie', sub: 'cnam' }),
  principal({ role: 'admin', sub: 'ops' }),
];

function resources(): Resource[] {
  const out: Resource[] = [{ resourceType: 'Organization', id: 'o' }, { resourceType: 'ValueSet', id: 'v', status: 'active' } as Resource];
  const creators = [pro(RPPS.other, '10'), pro(RPPS.pharmacist, '21'), pro(RPPS.emergency, '60'), pro(RPPS.dietitian, '95'), principal({ role: 'feeder', sub: 'lab' }), principal({ role: 'patient', patient: 'p1' })];
  const labelSets = [[], [Label.maskedFromProfessionals], [Label.invisibleToPatient], [Label.invisibleToRepresentatives, Label.maskedFromProfessionals]];
  for (const patient of [...Object.keys(DMPS), 'p9']) {
    for (const type of ['11488-4', '57833-6', '11502-2', '60591-5', 'REMB', 'EXPPAT_1']) {
      for (const labels of labelSets) for (const creator of creators) out.push(doc(type, { labels, creator, patient }));
    }
    for (const t of ['Observation', 'MedicationRequest', 'Condition', 'AllergyIntolerance', 'Consent', 'Encounter']) out.push(structured(t, patient));
  }
  return out;
}

test('the search restriction keeps exactly the resources a read would allow, for every principal', () => {
  const all = resources();
  let visible = 0;
  for (const p of PRINCIPALS) {
    const alternatives = restrictionOf(p);
    for (const r of all) {
      const facets = accessFacets(r, matrix);
      const byRead = decideRead(p, facets, factsOf, matrix).effect === 'allow';
      const bySearch = holds({ kind: 'anyOf', alternatives }, accessIndexEntries(facets));
      if (byRead !== bySearch) {
        throw new Error(`${p.role}/${p.rpps ?? p.sub} on ${JSON.stringify(facets)}: read ${byRead}, search ${bySearch}`);
      }
      if (bySearch && facets.cls === 'patient-data') visible++;
    }
  }
  // Not vacuous: many resources are visible and many are not.
  expect(visible).toBeGreaterThan(200);
  expect(visible).toBeLessThan(all.length * PRINCIPALS.length - 200);
  expect(REFUSED_ROLES.size).toBe(3);
  expect(PATIENT_LOOKUP_ROLES.has('professional')).toBe(true);
});
