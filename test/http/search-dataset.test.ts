/**
 * Search over HTTP on a realistic French data set, every adapter: strings,
 * tokens, references, chains, `_has`, composites, numbers and quantities.
 * Each query's full result set (every page) must equal what an independent
 * oracle (test/support/oracle.ts, written from the spec) computes from the
 * generated resources. Dates and result parameters: search-dataset-*.test.ts.
 */
import type { Observation, Patient } from '@medplum/fhirtypes';
import { BASE_URL } from '../support/app';
import {
  BP, CONFIDENTIALITY, generateDataset, INS, IPP, LOINC, PATIENTS_PER_ADAPTER, RPPS, SNOMED, TAGS, TRE_A07, UCUM, type Dataset,
} from '../support/dataset';
import { datasetApp } from '../support/dataset-app';
import { contains, expectExactMatches, localRef, numberMatches, oracleCase as c, quantityMatches, startsWith, tokenMatches, type Case } from '../support/oracle';
import { STORES } from '../support/stores';

const families = (p: Patient) => (p.name ?? []).map((n) => n.family);
const nameParts = (p: Patient) => (p.name ?? []).flatMap((n) => [n.family, ...(n.given ?? []), ...(n.prefix ?? []), ...(n.suffix ?? []), n.text]);
const obsQty = (o: Observation) => o.valueQuantity;

/** The queries, with values picked from the data (never hard-coded): the oracle decides what they match. */
function cases(ds: Dataset): Case[] {
  const P = ds.patients;
  const O = ds.observations;
  const patientOf = (r: { subject?: { reference?: string } }) => P.find((p) => localRef(r.subject) === `Patient/${p.id}`);
  const gpOf = (p: Patient | undefined) => ds.practitioners.find((d) => p?.generalPractitioner?.[0]?.reference === `Practitioner/${d.id}`);
  const someone = P[7];
  const ins = someone.identifier?.[0].value as string;
  const gp = ds.practitioners[3];
  const rpps = gp.identifier?.[0].value as string;
  // A second-identifier value that occurs both with the IPP system and with no system.
  const shared = P.flatMap((p) => p.identifier ?? []).find(
    (i) => i.system === IPP && P.some((p) => p.identifier?.some((j) => j.system === undefined && j.value === i.value)),
  )?.value ?? 'D0001';
  const [subj1, subj2] = [O[5], O[O.length - 9]].map((o) => (localRef(o.subject) as string).split('/')[1]);
  const report = ds.reports.find((r) => (r.result?.length ?? 0) > 1) ?? ds.reports[0];
  const resultRef = localRef(report.result?.[1] ?? report.result?.[0]) as string;
  const picked = [P[3], P[Math.floor(P.length / 2)], P[P.length - 2]];
  const heartRate = String(O.find((o) => o.code.coding?.[0].code === '8867-4')?.valueQuantity?.value);

  return [
    // string: starts-with, case- and accent-insensitive by default
    c('Patient?family=dup', P, (p) => startsWith(families(p), 'dup')),
    c('Patient?family=LEFEVRE', P, (p) => startsWith(families(p), 'lefevre')),
    c('Patient?given=elo', P, (p) => startsWith((p.name ?? []).flatMap((n) => n.given ?? []), 'élo')),
    c('Patient?family:exact=Lefèvre', P, (p) => families(p).includes('Lefèvre')),
    c('Patient?family:exact=lefèvre', P, (p) => families(p).includes('lefèvre'), true),
    c('Patient?family:contains=GALL', P, (p) => contains(families(p), 'gall')),
    c('Patient?name=jean', P, (p) => startsWith(nameParts(p), 'jean')),
    c('Patient?name=saint,le g', P, (p) => startsWith(nameParts(p), 'saint') || startsWith(nameParts(p), 'le g')),
    c('Patient?address-city=saint-eti', P, (p) => startsWith((p.address ?? []).map((a) => a.city), 'saint-eti')),
    c('Patient?address-city:contains=etienne', P, (p) => contains((p.address ?? []).map((a) => a.city), 'étienne')),
    c('Patient?address-postalcode=750&gender=female', P, (p) => startsWith((p.address ?? []).map((a) => a.postalCode), '750') && p.gender === 'female'),
    c('Patient?family=dupont&family=dupont-', P, (p) => startsWith(families(p), 'dupont') && startsWith(families(p), 'dupont-')),
    // token
    c(`Patient?identifier=${INS}|${ins}`, P, (p) => tokenMatches(p.identifier, `${INS}|${ins}`)),
    c(`Patient?identifier=${shared}`, P, (p) => tokenMatches(p.identifier, shared)),
    c(`Patient?identifier=|${shared}`, P, (p) => tokenMatches(p.identifier, `|${shared}`)),
    c(`Patient?identifier=${IPP}|`, P, (p) => tokenMatches(p.identifier, `${IPP}|`)),
    c(`Patient?identifier=${IPP}|${shared},${INS}|${ins}`, P, (p) => tokenMatches(p.identifier, `${IPP}|${shared}`) || tokenMatches(p.identifier, `${INS}|${ins}`)),
    c('Patient?gender:not=male', P, (p) => p.gender !== 'male'),
    c('Patient?active:not=true', P, (p) => p.active !== true),
    c('Patient?email:missing=false', P, (p) => (p.telecom ?? []).some((t) => t.system === 'email')),
    c('Patient?birthdate:missing=true', P, (p) => p.birthDate === undefined),
    c(`Patient?_tag=${TAGS}|cohorte-diabete`, P, (p) => tokenMatches(p.meta?.tag, `${TAGS}|cohorte-diabete`)),
    c('Patient?_tag=essai-clinique&gender=male', P, (p) => tokenMatches(p.meta?.tag, 'essai-clinique') && p.gender === 'male'),
    c(`Patient?_id=${picked[0].id},${picked[1].id},${picked[2].id},pat-unknown`, P, (p) => picked.includes(p)),
    c(`Observation?code=${LOINC}|8867-4,${LOINC}|8310-5`, O, (o) => tokenMatches(o.code.coding, `${LOINC}|8867-4`) || tokenMatches(o.code.coding, `${LOINC}|8310-5`)),
    c(`Observation?code=${SNOMED}|8867-4`, O, () => false, true),
    c('Condition?code:text=diabete', ds.conditions, (x) => startsWith([x.code?.text, ...(x.code?.coding ?? []).map((d) => d.display)], 'diabète')),
    c('Condition?code:text=hypertension', ds.conditions, (x) => startsWith([x.code?.text, ...(x.code?.coding ?? []).map((d) => d.display)], 'hypertension')),
    c('Condition?clinical-status:not=active', ds.conditions, (x) => !tokenMatches(x.clinicalStatus?.coding, 'active')),
    c(`DocumentReference?security-label=${TRE_A07}|MASQUE_PS`, ds.documents, (d) => tokenMatches(d.securityLabel?.[0]?.coding, `${TRE_A07}|MASQUE_PS`)),
    c(`DocumentReference?security-label:not=${TRE_A07}|MASQUE_PS`, ds.documents, (d) => !tokenMatches(d.securityLabel?.[0]?.coding, `${TRE_A07}|MASQUE_PS`)),
    c(`DocumentReference?_security=${CONFIDENTIALITY}|R&status=current`, ds.documents, (d) => tokenMatches(d.meta?.security, `${CONFIDENTIALITY}|R`) && d.status === 'current'),
    c(`DocumentReference?type=${LOINC}|11490-0,${LOINC}|60591-5&status=superseded`, ds.documents, (d) => ['11490-0', '60591-5'].includes(d.type?.coding?.[0].code as string) && d.status === 'superseded'),
    // reference: id, Type/id, absolute URL on this server, type modifier, OR
    c(`Observation?subject=${subj1}`, O, (o) => localRef(o.subject) === `Patient/${subj1}`),
    c(`Observation?subject=Patient/${subj1}`, O, (o) => localRef(o.subject) === `Patient/${subj1}`),
    c(`Observation?subject=${BASE_URL}/Patient/${subj1}`, O, (o) => localRef(o.subject) === `Patient/${subj1}`),
    c(`Condition?subject:Patient=${subj1},${subj2}`, ds.conditions, (x) => [`Patient/${subj1}`, `Patient/${subj2}`].includes(localRef(x.subject) as string)),
    c(`Patient?general-practitioner=Practitioner/${gp.id}`, P, (p) => gpOf(p) === gp),
    c(`DiagnosticReport?result=${resultRef}`, ds.reports, (r) => (r.result ?? []).some((x) => localRef(x) === resultRef)),
    // chains and reverse chains
    c('Observation?subject:Patient.family=dupont', O, (o) => startsWith(families(patientOf(o) ?? {} as Patient), 'dupont')),
    c('DocumentReference?subject.address-city=lyon', ds.documents, (d) => startsWith((patientOf(d)?.address ?? []).map((a) => a.city), 'lyon')),
    c(`Observation?subject:Patient.general-practitioner.identifier=${RPPS}|${rpps}`, O, (o) => gpOf(patientOf(o)) === gp),
    c(`Patient?_has:Observation:subject:code=${LOINC}|${BP.panel}`, P, (p) => O.some((o) => patientOf(o) === p && tokenMatches(o.code.coding, `${LOINC}|${BP.panel}`))),
    c(
      `Patient?_has:Condition:subject:code=${SNOMED}|44054006&_has:Condition:subject:clinical-status=resolved`,
      P,
      (p) => ds.conditions.some((x) => patientOf(x) === p && tokenMatches(x.code?.coding, `${SNOMED}|44054006`)) && ds.conditions.some((x) => patientOf(x) === p && tokenMatches(x.clinicalStatus?.coding, 'resolved')),
    ),
    c('Practitioner?_has:Patient:general-practitioner:_has:RiskAssessment:subject:probability=gt0.47', ds.practitioners, (d) =>
      ds.risks.some((x) => gpOf(patientOf(x)) === d && numberMatches(x.prediction?.[0].probabilityDecimal, 'gt0.47')),
    ),
    // composite: code and value from the same element
    c(`Observation?code-value-quantity=${LOINC}|8867-4$gt80`, O, (o) => tokenMatches(o.code.coding, `${LOINC}|8867-4`) && quantityMatches(o.valueQuantity, 'gt80')),
    c(`Observation?component-code-value-quantity=${LOINC}|${BP.systolic}$ge140`, O, (o) =>
      (o.component ?? []).some((k) => tokenMatches(k.code.coding, `${LOINC}|${BP.systolic}`) && quantityMatches(k.valueQuantity, 'ge140')),
    ),
    c(`Observation?component-code-value-quantity=${LOINC}|${BP.diastolic}$ge100`, O, (o) =>
      (o.component ?? []).some((k) => tokenMatches(k.code.coding, `${LOINC}|${BP.diastolic}`) && quantityMatches(k.valueQuantity, 'ge100')),
    ),
    // quantity and number: prefixes, precision, units
    c('Observation?value-quantity=gt100', O, (o) => quantityMatches(obsQty(o), 'gt100')),
    c(`Observation?value-quantity=${heartRate}`, O, (o) => quantityMatches(obsQty(o), heartRate)),
    c(`Observation?value-quantity=ne72|${UCUM}|/min`, O, (o) => quantityMatches(obsQty(o), `ne72|${UCUM}|/min`)),
    c(`Observation?value-quantity=ge38.5|${UCUM}|Cel`, O, (o) => quantityMatches(obsQty(o), `ge38.5|${UCUM}|Cel`)),
    c('Observation?value-quantity=lt60||kg', O, (o) => quantityMatches(obsQty(o), 'lt60||kg')),
    c(`Observation?value-quantity=lt60|${UCUM}|kg`, O, (o) => quantityMatches(obsQty(o), `lt60|${UCUM}|kg`)),
    c(`Observation?value-quantity=le1.10|${UCUM}|g/L`, O, (o) => quantityMatches(obsQty(o), `le1.10|${UCUM}|g/L`)),
    c('Observation?value-quantity:missing=true', O, (o) => o.valueQuantity === undefined),
    c('RiskAssessment?probability=0.15', ds.risks, (x) => numberMatches(x.prediction?.[0].probabilityDecimal, '0.15')),
    c('RiskAssessment?probability=ne0.2', ds.risks, (x) => numberMatches(x.prediction?.[0].probabilityDecimal, 'ne0.2')),
    c('RiskAssessment?probability=gt0.3', ds.risks, (x) => numberMatches(x.prediction?.[0].probabilityDecimal, 'gt0.3')),
    c('RiskAssessment?probability=le0.05', ds.risks, (x) => numberMatches(x.prediction?.[0].probabilityDecimal, 'le0.05')),
  ];
}

describe.each(STORES)('search on the French data set, exact result sets ($name)', (fixture) => {
  const ds = generateDataset({ patients: PATIENTS_PER_ADAPTER[fixture.name] });
  const t = datasetApp(fixture, ds);

  test.each(cases(ds))('$query', async (one) => {
    await expectExactMatches(t.app, one, fixture.name === 'sqlite');
  });
});
