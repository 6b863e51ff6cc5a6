/**
 * Date search over HTTP on the French data set, every adapter: each prefix
 * (eq ne gt lt ge le sa eb) at several precisions, on dates (birthDate with
 * year / month / day precision), dateTimes with zones, Periods and instants;
 * `_lastUpdated`; sorting on dates. Exact result sets against the oracle.
 * (`ap` is left out: its tolerance is the server's choice.)
 * @see https://hl7.org/fhir/R4/search.html#date
 */
import type { Observation, Patient } from '@medplum/fhirtypes';
import { generateDataset, LOINC, PATIENTS_PER_ADAPTER, type Dataset } from '../support/dataset';
import { datasetApp } from '../support/dataset-app';
import { dateMatches, dateRange, expectExactMatches, expectSortedMatches, fold, oracleCase as c, type Case } from '../support/oracle';
import { STORES } from '../support/stores';

/** The range an Observation's effective[x] covers. */
function effective(o: Observation): [number, number] | undefined {
  if (o.effectiveDateTime) return dateRange(o.effectiveDateTime);
  if (o.effectivePeriod) return [dateRange(o.effectivePeriod.start as string)[0], dateRange(o.effectivePeriod.end as string)[1]];
  return undefined;
}

function cases(ds: Dataset): Case[] {
  const P = ds.patients;
  const O = ds.observations;
  const b = (q: string) => c(`Patient?birthdate=${q}`, P, (p) => dateMatches(p.birthDate, q));
  const d = (q: string) => c(`Observation?date=${q}`, O, (o) => dateMatches(effective(o), q));
  // Values taken from the data so that equality searches have something to find.
  const full = P.filter((p) => p.birthDate?.length === 10).map((p) => p.birthDate as string);
  const [year, month, day] = [full[0].slice(0, 4), full[1].slice(0, 7), full[2]];
  // A day some Observation was made on (date precision if there is one, else the UTC day of a dateTime).
  const obsDay = (O.find((o) => o.effectiveDateTime?.length === 10)?.effectiveDateTime ??
    new Date(dateRange(O.find((o) => o.effectiveDateTime)?.effectiveDateTime as string)[0]).toISOString().slice(0, 10)) as string;
  return [
    b(year),
    b(month),
    b(day),
    b(`ne${year}`),
    b('gt1990-06-15'),
    b('lt1950'),
    b('ge1985-01-01'),
    b('le1960-12'),
    b('sa1999'),
    b('eb1945'),
    c('Patient?birthdate=ge1970&birthdate=lt1980', P, (p) => dateMatches(p.birthDate, 'ge1970') && dateMatches(p.birthDate, 'lt1980')),
    c(`Patient?birthdate=${year},${full[full.length - 1].slice(0, 4)}`, P, (p) => dateMatches(p.birthDate, year) || dateMatches(p.birthDate, full[full.length - 1].slice(0, 4))),
    d('2024'),
    d('2024-03'),
    d(obsDay),
    d('ne2024'),
    d('ge2025-06-01'),
    d('lt2023-03-01'),
    d('sa2025-11-30'),
    d('eb2023-01-31'),
    d('gt2024-06-01T12:00:00+02:00'),
    d('le2023-06-30T23:59:59Z'),
    c('Observation?date=ge2024-01&date=lt2024-04', O, (o) => dateMatches(effective(o), 'ge2024-01') && dateMatches(effective(o), 'lt2024-04')),
    c('DocumentReference?date=ge2025', ds.documents, (x) => dateMatches(x.date, 'ge2025')),
    c('DocumentReference?date=2024-05', ds.documents, (x) => dateMatches(x.date, '2024-05')),
    c('DiagnosticReport?date=lt2024-01-01T00:00:00+01:00', ds.reports, (x) => dateMatches(x.effectiveDateTime, 'lt2024-01-01T00:00:00+01:00')),
    c('Condition?onset-date=lt2005', ds.conditions, (x) => dateMatches(x.onsetDateTime, 'lt2005')),
  ];
}

describe.each(STORES)('date search on the French data set ($name)', (fixture) => {
  const ds = generateDataset({ patients: PATIENTS_PER_ADAPTER[fixture.name] });
  const t = datasetApp(fixture, ds);
  const lu = (r: { resourceType: string; id?: string }) => Date.parse(t.lastUpdated.get(`${r.resourceType}/${r.id}`) as string);

  test.each(cases(ds))('$query', async (one) => {
    await expectExactMatches(t.app, one, fixture.name === 'sqlite');
  });

  test('_lastUpdated with ge and lt splits the data at one write instant', async () => {
    const mid = t.lastUpdated.get(`Patient/${ds.patients[Math.floor(ds.patients.length / 2)].id}`) as string;
    await expectExactMatches(t.app, c(`Patient?_lastUpdated=ge${mid}`, ds.patients, (p) => lu(p) >= Date.parse(mid)));
    await expectExactMatches(t.app, c(`Observation?_lastUpdated=lt${mid}&status=final`, ds.observations, (o) => lu(o) < Date.parse(mid) && o.status === 'final'), false);
    // Second precision covers the whole second: eq finds every write of that second, gt only later seconds.
    const second = `${mid.slice(0, 19)}Z`;
    for (const q of [second, `gt${second}`, `le${second}`]) {
      await expectExactMatches(t.app, c(`Patient?_lastUpdated=${q}`, ds.patients, (p) => dateMatches(t.lastUpdated.get(`Patient/${p.id}`), q)), false);
    }
    // Day precision: everything was written today or earlier, nothing after tomorrow.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await expectExactMatches(t.app, c(`Practitioner?_lastUpdated=sa${tomorrow}`, ds.practitioners, () => false, true));
  });

  test('_sort=-birthdate,family: latest birth first (a year sorts by its end), then family', async () => {
    const born = (p: Patient) => dateRange(p.birthDate as string)[1];
    const family = (p: Patient) => (p.name ?? []).map((n) => fold(n.family as string)).sort()[0];
    await expectSortedMatches(t.app, 'Patient?birthdate:missing=false&gender=female&_sort=-birthdate,family&_count=7', ds.patients,
      (p) => p.birthDate !== undefined && p.gender === 'female', [{ key: born, desc: true }, { key: family }]);
  });

  test('_sort=date and _sort=-date on Observations (Periods included)', async () => {
    const hr = (o: Observation) => o.code.coding?.[0].code === '8867-4';
    await expectSortedMatches(t.app, `Observation?code=${LOINC}|8867-4&_sort=-date`, ds.observations, hr, [
      { key: (o) => (effective(o) as [number, number])[1], desc: true },
    ]);
    await expectSortedMatches(t.app, 'Observation?status=final&_sort=date&_count=9', ds.observations, (o) => o.status === 'final', [
      { key: (o) => (effective(o) as [number, number])[0] },
    ]);
  });

  test('_sort=-_lastUpdated pages newest first', async () => {
    await expectSortedMatches(t.app, 'Patient?gender=male&_sort=-_lastUpdated&_count=6', ds.patients, (p) => p.gender === 'male', [
      { key: lu, desc: true },
    ]);
  });
});
