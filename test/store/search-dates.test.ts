import { MAX_DATE, MIN_DATE } from '../../src/fhir/search/index-entry';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { cmp, date, dateIso, entry, matchIds, num, plan, qty, Seeder } from './search-support';

const ms = (iso: string) => Date.parse(iso);
const UCUM = 'http://unitsofmeasure.org';

describe.each(STORES)('store search: dates ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Observation', 'd1', [dateIso('date', '2020-01-01T00:00:00.000Z', '2020-01-01T23:59:59.999Z')]);
    await s.put('Observation', 'd2', [dateIso('date', '2020-06-15T10:00:00.000Z')]);
    await s.put('Observation', 'd3', [date('date', ms('2019-12-31T00:00:00.000Z'), MAX_DATE)]);
    await s.put('Observation', 'd4', [date('date', MIN_DATE, ms('2019-06-30T23:59:59.999Z'))]);
    await s.put('Observation', 'd5', []);
    await s.put('Observation', 'd6', [dateIso('date', '2021-01-01T00:00:00.000Z', '2021-12-31T23:59:59.999Z')]);
    await s.put('Observation', 'd7', [dateIso('date', '1950-03-01T00:00:00.000Z', '1950-03-01T23:59:59.999Z')]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  const Y2020 = { low: ms('2020-01-01T00:00:00.000Z'), high: ms('2020-12-31T23:59:59.999Z') };
  const d = (...alternatives: Parameters<typeof cmp>[][]) =>
    matchIds(store, 'Observation', [entry('date', 'date', alternatives.map((alt) => alt.map((c) => cmp(...c))))]);

  test('eq: the entry range lies within the value range', async () => {
    expect(await d([['low', 'ge', Y2020.low], ['high', 'le', Y2020.high]])).toEqual(['d1', 'd2']);
  });

  test('gt / ge compare the high end, lt / le the low end', async () => {
    const t = ms('2020-06-15T10:00:00.000Z');
    expect(await d([['high', 'gt', t]])).toEqual(['d3', 'd6']);
    expect(await d([['high', 'ge', t]])).toEqual(['d2', 'd3', 'd6']);
    expect(await d([['low', 'lt', Y2020.low]])).toEqual(['d3', 'd4', 'd7']);
    expect(await d([['low', 'le', Y2020.low]])).toEqual(['d1', 'd3', 'd4', 'd7']);
  });

  test('ne as an OR of alternatives', async () => {
    expect(await d([['low', 'lt', Y2020.low]], [['high', 'gt', Y2020.high]])).toEqual(['d3', 'd4', 'd6', 'd7']);
  });

  test('open period ends compare as the extreme instants', async () => {
    expect(await d([['low', 'eq', MIN_DATE]])).toEqual(['d4']);
    expect(await d([['high', 'eq', MAX_DATE]])).toEqual(['d3']);
    expect(await d([['low', 'lt', ms('1900-01-01T00:00:00.000Z')]])).toEqual(['d4']);
  });

  test('instants before 1970 compare correctly', async () => {
    expect(await d([['low', 'ge', ms('1950-01-01T00:00:00.000Z')], ['high', 'lt', ms('1951-01-01T00:00:00.000Z')]])).toEqual([
      'd7',
    ]);
  });

  test(':missing on a date', async () => {
    expect(await matchIds(store, 'Observation', [entry('date', 'date', [[]], true)])).toEqual(['d5']);
  });
});

describe.each(STORES)('store search: numbers and quantities ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('RiskAssessment', 'n1', [num('probability', 1)]);
    await s.put('RiskAssessment', 'n2', [num('probability', 2.5)]);
    await s.put('RiskAssessment', 'n3', [num('probability', -3)]);
    await s.put('RiskAssessment', 'n4', [num('probability', 100)]);
    await s.put('RiskAssessment', 'n5', []);
    await s.put('RiskAssessment', 'n6', [num('probability', 1), num('probability', 200)]);
    await s.put('Observation', 'q1', [qty('value-quantity', 120)]);
    await s.put('Observation', 'q2', [qty('value-quantity', 80)]);
    await s.put('Observation', 'q3', [qty('value-quantity', 120, null, null, 'mmHg')]);
    await s.put('Observation', 'q4', [qty('value-quantity', 5.4, UCUM, 'mmol/L')]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  const n = (...alternatives: Parameters<typeof cmp>[][]) =>
    matchIds(store, 'RiskAssessment', [entry('number', 'probability', alternatives.map((alt) => alt.map((c) => cmp(...c))))]);
  const q = (...comparisons: Parameters<typeof cmp>[]) =>
    matchIds(store, 'Observation', [entry('quantity', 'value-quantity', [comparisons.map((c) => cmp(...c))])]);

  test('number: every comparison operator', async () => {
    expect(await n([['value', 'eq', 2.5]])).toEqual(['n2']);
    expect(await n([['value', 'ge', 0.5], ['value', 'lt', 1.5]])).toEqual(['n1', 'n6']);
    expect(await n([['value', 'lt', 0]])).toEqual(['n3']);
    expect(await n([['value', 'le', 2.5]])).toEqual(['n1', 'n2', 'n3', 'n6']);
    expect(await n([['value', 'gt', 99]])).toEqual(['n4', 'n6']);
    expect(await n([['value', 'ge', 2.5]])).toEqual(['n2', 'n4', 'n6']);
    expect(await n([['value', 'in', [2.5, 100, 7]]])).toEqual(['n2', 'n4']);
  });

  test('number: OR of ranges, negation and :missing', async () => {
    expect(await n([['value', 'lt', 0]], [['value', 'gt', 150]])).toEqual(['n3', 'n6']);
    const is1 = entry('number', 'probability', [[cmp('value', 'eq', 1)]], true);
    expect(await matchIds(store, 'RiskAssessment', [is1])).toEqual(['n2', 'n3', 'n4', 'n5']);
    expect(await matchIds(store, 'RiskAssessment', [entry('number', 'probability', [[]], true)])).toEqual(['n5']);
  });

  test('quantity: value, system and code hold on the same entry', async () => {
    expect(await q(['value', 'gt', 100])).toEqual(['q1', 'q3']);
    expect(await q(['value', 'gt', 100], ['system', 'eq', UCUM], ['code', 'eq', 'mm[Hg]'])).toEqual(['q1']);
    expect(await q(['value', 'eq', 120], ['unit', 'eq', 'mmHg'])).toEqual(['q3']);
    expect(await q(['code', 'isNull'])).toEqual(['q3']);
    expect(await q(['value', 'lt', 100], ['code', 'eq', 'mmol/L'])).toEqual(['q4']);
    expect(await q(['value', 'le', 80], ['code', 'eq', 'mm[Hg]'])).toEqual(['q2']);
  });
});

describe.each(STORES)('store search: _lastUpdated ($name)', (fixture) => {
  let store: ResourceStore;
  const at: Record<string, number> = {};
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    for (const id of ['a', 'b', 'c', 'd']) {
      at[id] = await s.put('Patient', id, [num('n', 1)]);
    }
    // An update moves lastUpdated: `a` is now the newest.
    at.a = await s.put('Patient', 'a', [num('n', 2)]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  const lu = (...alternatives: Parameters<typeof cmp>[][]) =>
    matchIds(store, 'Patient', [{ kind: 'lastUpdated', predicate: alternatives.map((alt) => alt.map((c) => cmp(...c))) }]);

  test('each comparison on the instant', async () => {
    expect(await lu([['low', 'eq', at.b]])).toEqual(['b']);
    expect(await lu([['low', 'gt', at.b]])).toEqual(['a', 'c', 'd']);
    expect(await lu([['high', 'ge', at.c]])).toEqual(['a', 'c', 'd']);
    expect(await lu([['high', 'lt', at.c]])).toEqual(['b']);
    expect(await lu([['low', 'le', at.c]])).toEqual(['b', 'c']);
    expect(await lu([['low', 'ge', at.c], ['high', 'le', at.d]])).toEqual(['c', 'd']);
    expect(await lu([['low', 'lt', at.c]], [['low', 'gt', at.d]])).toEqual(['a', 'b']);
  });

  test('a range given as two conditions (ge and lt at second precision)', async () => {
    const second = [cmp('low', 'ge', at.b), cmp('high', 'le', at.b + 999)];
    const ge = { kind: 'lastUpdated' as const, predicate: [[cmp('high', 'gt', at.b + 999)], second] };
    const lt = { kind: 'lastUpdated' as const, predicate: [[cmp('low', 'lt', at.d)]] };
    expect(await matchIds(store, 'Patient', [ge, lt])).toEqual(['b', 'c']);
    expect(await matchIds(store, 'Patient', [lt, ge, entry('number', 'n', [[cmp('value', 'eq', 1)]])])).toEqual(['b', 'c']);
  });

  test('combined with an entry condition', async () => {
    const n2 = entry('number', 'n', [[cmp('value', 'eq', 2)]]);
    expect(await matchIds(store, 'Patient', [n2, { kind: 'lastUpdated', predicate: [[cmp('low', 'gt', at.d)]] }])).toEqual([
      'a',
    ]);
  });
});

/**
 * Two-sided ranges, as the parser plans `date=ge2024-01-01&date=lt2024-02-01`:
 * two conditions, each satisfied by some entry, not necessarily the same one
 * (each repeated parameter is a separate condition).
 * @see https://hl7.org/fhir/R4/search.html#date
 */
describe.each(STORES)('store search: two-sided date ranges ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    const day = (d: string) => dateIso('date', `${d}T00:00:00.000Z`, `${d}T23:59:59.999Z`);
    await s.put('Observation', 'narrow', [dateIso('date', '2024-01-15T10:00:00.000Z')]);
    await s.put('Observation', 'day', [day('2024-01-01')]);
    await s.put('Observation', 'wide', [dateIso('date', '2023-12-20T00:00:00.000Z', '2024-01-10T23:59:59.999Z')]);
    // Neither value lies in January, but one is after its start and the other before its end.
    await s.put('Observation', 'multi', [
      dateIso('date', '2023-06-01T08:00:00.000Z'),
      dateIso('date', '2024-03-01T08:00:00.000Z'),
    ]);
    await s.put('Observation', 'open', [date('date', ms('2023-11-01T00:00:00.000Z'), MAX_DATE)]);
    await s.put('Observation', 'open-start', [date('date', MIN_DATE, ms('2024-01-20T23:59:59.999Z'))]);
    await s.put('Observation', 'year', [dateIso('date', '2024-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z')]);
    await s.put('Observation', 'year-before', [dateIso('date', '2023-01-01T00:00:00.000Z', '2023-12-31T23:59:59.999Z')]);
    await s.put('Observation', 'decade', [dateIso('date', '2015-01-01T00:00:00.000Z', '2030-12-31T23:59:59.999Z')]);
    // Less than a day outside the range, or across its start without reaching past 2024-01-01.
    await s.put('Observation', 'second-before', [dateIso('date', '2023-12-31T23:59:59.000Z')]);
    await s.put('Observation', 'at-end', [dateIso('date', '2024-02-01T00:00:00.000Z')]);
    await s.put('Observation', 'straddle', [dateIso('date', '2023-12-31T23:00:00.000Z', '2024-01-01T00:30:00.000Z')]);
    await s.put('Observation', 'after', [dateIso('date', '2024-02-01T00:00:00.000Z', '2024-02-03T23:59:59.999Z')]);
    await s.put('Observation', 'long-ago', [day('2019-05-05')]);
    await s.put('Observation', 'none', []);
    await s.put('Observation', 'other-param', [dateIso('issued', '2024-01-15T10:00:00.000Z')]);
    // Updates and deletes replace what a search finds.
    await s.put('Observation', 'moved-out', [dateIso('date', '2024-01-15T10:00:00.000Z')]);
    await s.put('Observation', 'moved-out', [dateIso('date', '2025-06-01T10:00:00.000Z')]);
    await s.put('Observation', 'moved-in', [day('2020-01-01')]);
    await s.put('Observation', 'moved-in', [day('2024-01-20')]);
    await s.put('Observation', 'removed', [dateIso('date', '2024-01-15T10:00:00.000Z')]);
    await s.remove('Observation', 'removed');
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  /** `date=ge<day>` as planned: after the day, or within it. */
  const ge = (d: string) => {
    const lo = ms(`${d}T00:00:00.000Z`);
    const hi = ms(`${d}T23:59:59.999Z`);
    return entry('date', 'date', [[cmp('high', 'gt', hi)], [cmp('low', 'ge', lo), cmp('high', 'le', hi)]]);
  };
  /** `date=lt<day>`: starts before the day. */
  const lt = (d: string) => entry('date', 'date', [[cmp('low', 'lt', ms(`${d}T00:00:00.000Z`))]]);
  const JANUARY = ['day', 'decade', 'moved-in', 'multi', 'narrow', 'open', 'open-start', 'wide', 'year'];

  test('ge and lt: narrow, wide, open, year-only and multi-valued resources match; those just outside do not', async () => {
    expect(await matchIds(store, 'Observation', [ge('2024-01-01'), lt('2024-02-01')])).toEqual(JANUARY);
    expect(await matchIds(store, 'Observation', [lt('2024-02-01'), ge('2024-01-01')])).toEqual(JANUARY);
  });

  test('a one-day range', async () => {
    expect(await matchIds(store, 'Observation', [ge('2024-01-01'), lt('2024-01-02')])).toEqual([
      'day',
      'decade',
      'multi',
      'open',
      'open-start',
      'wide',
      'year',
    ]);
  });

  test('crossed bounds match what spans both, a range long ago only open starts', async () => {
    expect(await matchIds(store, 'Observation', [ge('2024-02-01'), lt('2024-01-01')])).toEqual(['decade', 'multi', 'open']);
    expect(await matchIds(store, 'Observation', [ge('1990-01-01'), lt('1990-01-02')])).toEqual(['open-start']);
  });

  test('overlap on a single entry (ap): the multi-valued resource has no value in January', async () => {
    const overlap = entry('date', 'date', [
      [cmp('low', 'le', ms('2024-01-31T23:59:59.999Z')), cmp('high', 'ge', ms('2024-01-01T00:00:00.000Z'))],
    ]);
    expect(await matchIds(store, 'Observation', [overlap])).toEqual([
      'day',
      'decade',
      'moved-in',
      'narrow',
      'open',
      'open-start',
      'straddle',
      'wide',
      'year',
    ]);
  });

  test('with a negated condition, a total and sorted pages', async () => {
    const jan1 = [cmp('low', 'ge', ms('2024-01-01T00:00:00.000Z')), cmp('high', 'le', ms('2024-01-01T23:59:59.999Z'))];
    const notDay = entry('date', 'date', [jan1], true);
    expect(await matchIds(store, 'Observation', [ge('2024-01-01'), lt('2024-02-01'), notDay])).toEqual(
      JANUARY.filter((id) => id !== 'day'),
    );
    const sort = [{ param: 'date', descending: false }];
    const p = plan('Observation', [ge('2024-01-01'), lt('2024-02-01')], { count: 3, total: true, sort });
    const ids: string[] = [];
    let page = await store.search(p);
    expect(page.total).toBe(JANUARY.length);
    ids.push(...page.matches.map((m) => m.id));
    while (page.next) {
      page = await store.search({ ...p, cursor: page.next });
      ids.push(...page.matches.map((m) => m.id));
    }
    // Ascending by the lowest value; `day` and `year` both start on 2024-01-01 and tie-break on Type/id.
    expect(ids).toEqual(['open-start', 'decade', 'multi', 'open', 'wide', 'day', 'year', 'narrow', 'moved-in']);
  });
});
