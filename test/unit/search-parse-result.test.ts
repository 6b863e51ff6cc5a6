import { decodeCursor, encodeCursor, MAX_SEARCH_PARAMETERS, MAX_SEARCH_VALUES } from '../../src/fhir/search/parse';
import type { Cursor } from '../../src/fhir/search/plan';
import { failure, parse } from './search-parse-helpers';

describe('defaults', () => {
  test('an empty query: default count, total counted up to the limit, nothing else', () => {
    expect(parse('Patient', '')).toEqual({
      plan: { types: ['Patient'], where: [], sort: [], count: 20, total: true, totalLimit: 1000, include: [], revinclude: [], maxIncludes: 1000 },
      selfParams: [['_count', '20']],
      ignored: [],
    });
  });

  test('maxIncludes comes from the options', () => {
    expect(parse('Patient', '', { maxIncludes: 5 }).plan.maxIncludes).toBe(5);
  });
});

describe('_count', () => {
  test.each([
    ['_count=5', 5],
    ['_count=0', 0],
    ['_count=1000', 100],
  ])('%s -> %i (capped at maxCount)', (q, count) => {
    expect(parse('Patient', q).plan.count).toBe(count);
  });

  test.each(['_count=-1', '_count=abc', '_count=1.5', '_count='])('%s is a 400', (q) => {
    expect(failure(() => parse('Patient', q)).text).toMatch(/'_count'/);
  });

  test('given twice is a 400', () => {
    expect(failure(() => parse('Patient', '_count=1&_count=2')).text).toMatch(/'_count' may be given only once/);
  });
});

describe('_sort', () => {
  test('comma list, - for descending, _id and _lastUpdated allowed', () => {
    expect(parse('Patient', '_sort=-birthdate,family,_lastUpdated,-_id').plan.sort).toEqual([
      { param: 'birthdate', descending: true },
      { param: 'family', descending: false },
      { param: '_lastUpdated', descending: false },
      { param: '_id', descending: true },
    ]);
  });

  test.each([
    ['_sort=bogus', /'_sort': Unknown search parameter 'bogus' for Patient/],
    ['_sort=family,-family', /names 'family' twice/],
    ['_sort=family,', /empty sort key/],
    ['_sort:desc=family', /_sort takes no modifier/],
  ])('%s is a 400', (q, message) => {
    expect(failure(() => parse('Patient', q)).text).toMatch(message);
  });

  test('composite parameters cannot be sorted on', () => {
    expect(failure(() => parse('Observation', '_sort=code-value-quantity')).text).toMatch(/composite parameter and cannot be sorted/);
  });
});

describe('_total and _summary', () => {
  test.each([
    ['', true, 1000],
    ['_total=none', false, undefined],
    ['_total=estimate', true, 1000],
    ['_total=accurate', true, undefined],
  ])('"%s": total %s, counted up to %s', (q, total, limit) => {
    const { plan } = parse('Patient', q);
    expect(plan.total).toBe(total);
    expect(plan.totalLimit).toBe(limit);
  });

  test('_total=bogus is a 400', () => {
    expect(failure(() => parse('Patient', '_total=bogus')).text).toMatch(/'_total' must be none, estimate or accurate/);
  });

  test('_summary=count asks for the total only, whatever _count and _total say', () => {
    const p = parse('Patient', '_summary=count&_count=50&_total=none');
    expect(p.summary).toBe('count');
    expect(p.plan.count).toBe(0);
    expect(p.plan.total).toBe(true);
    expect(p.plan.totalLimit).toBeUndefined();
  });

  test.each(['true', 'false', 'text', 'data'])('_summary=%s is passed to the caller', (v) => {
    const p = parse('Patient', `_summary=${v}`);
    expect(p.summary).toBe(v);
    expect(p.plan.count).toBe(20);
  });

  test('_summary=all is a 400', () => {
    expect(failure(() => parse('Patient', '_summary=all')).text).toMatch(/'_summary' must be/);
  });
});

describe('_elements', () => {
  test('element names of the type, choice elements by base or typed name, merged and deduplicated', () => {
    expect(parse('Observation', '_elements=status,value,valueQuantity&_elements=status,code').elements).toEqual(['status', 'value', 'valueQuantity', 'code']);
  });

  test('an unknown element is a 400', () => {
    expect(failure(() => parse('Patient', '_elements=name,bogus')).text).toMatch(/'bogus' is not an element of Patient/);
  });

  test('system search: an element of any of the types', () => {
    expect(parse(['Patient', 'Observation'], '_elements=gender,status').elements).toEqual(['gender', 'status']);
  });
});

describe('_include and _revinclude', () => {
  test('Type:param, Type:param:Target, :iterate and its alias :recurse', () => {
    const { plan } = parse(
      'Observation',
      '_include=Observation:subject:Patient&_include=Observation:performer&_include:iterate=Patient:organization&_revinclude:recurse=Provenance:target',
    );
    expect(plan.include).toEqual([
      { sourceType: 'Observation', param: 'subject', targetType: 'Patient', iterate: false },
      { sourceType: 'Observation', param: 'performer', iterate: false },
      { sourceType: 'Patient', param: 'organization', iterate: true },
    ]);
    expect(plan.revinclude).toEqual([{ sourceType: 'Provenance', param: 'target', iterate: true }]);
  });

  test('Type:* expands to every reference parameter of the type', () => {
    const { plan } = parse('Patient', '_include=Patient:*');
    expect(plan.include.map((i) => i.param).sort()).toEqual(['general-practitioner', 'link', 'organization']);
  });

  test.each([
    ['_include=Observation:bogus', /unknown search parameter 'bogus' for Observation/],
    ['_include=Observation:code', /'Observation:code' is a token parameter, not a reference/],
    ['_include=Observation:subject:Practitioner', /'Observation:subject' cannot refer to a Practitioner/],
    ['_include=Patient:organization', /'Patient' is not a searched type/],
    ['_include=Observation', /must be 'SourceType:parameter\[:TargetType\]'/],
    ['_include=Bogus:x', /unknown resource type 'Bogus'/],
    ['_include:deep=Observation:subject', /unknown modifier \(only ':iterate' is allowed\)/],
    ['_revinclude=Observation:encounter', /'Observation:encounter' cannot refer to Observation/],
  ])('%s is a 400', (q, message) => {
    const f = failure(() => parse('Observation', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });
});

describe('_cursor', () => {
  const cursor: Cursor = { direction: 'next', values: ['dupont', 1_700_000_000_000, null], ref: 'Patient/p-1' };

  test('round trip; the encoding is URL-safe', () => {
    const s = encodeCursor(cursor);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(s)).toEqual(cursor);
    expect(decodeCursor(encodeCursor({ ...cursor, direction: 'prev' }))).toEqual({ ...cursor, direction: 'prev' });
  });

  test('a cursor matching the sort is put in the plan', () => {
    const c: Cursor = { direction: 'prev', values: [null, 1_700_000_000_000], ref: 'Patient/p-1' };
    const p = parse('Patient', `_sort=family,-_lastUpdated&_cursor=${encodeCursor(c)}`);
    expect(p.plan.cursor).toEqual(c);
    expect(p.selfParams.some(([n]) => n === '_cursor')).toBe(false);
  });

  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  test.each([
    ['not base64', 'a b'],
    ['junk', 'zzzz'],
    ['JSON of the wrong shape', b64('{"direction":"next"}')],
    ['wrong version', b64('[2,"n",[],"Patient/1"]')],
    ['wrong direction', b64('[1,"x",[],"Patient/1"]')],
    ['bad ref', b64('[1,"n",[],"Patient/../1"]')],
    ['object value', b64('[1,"n",[{"$gt":""}],"Patient/1"]')],
    ['non-canonical base64', `${encodeCursor(cursor)}A`],
    ['empty', ''],
  ])('decodeCursor refuses %s', (_why, s) => {
    const f = failure(() => decodeCursor(s));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/'_cursor' is not a valid paging cursor/);
  });

  test.each([
    ['another sort', '_sort=family', { direction: 'next', values: [], ref: 'Patient/1' }, /different _sort/],
    ['another type', '', { direction: 'next', values: [], ref: 'Observation/1' }, /different resource type/],
    ['a string for a date sort', '_sort=birthdate', { direction: 'next', values: ['x'], ref: 'Patient/1' }, /bad value for birthdate/],
    ['null for _lastUpdated', '_sort=_lastUpdated', { direction: 'next', values: [null], ref: 'Patient/1' }, /bad value for _lastUpdated/],
  ])('a cursor of %s is a 400', (_why, q, c, message) => {
    const f = failure(() => parse('Patient', `${q}&_cursor=${encodeCursor(c as Cursor)}`));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });

  test('two cursors is a 400', () => {
    const s = encodeCursor({ direction: 'next', values: [], ref: 'Patient/1' });
    expect(failure(() => parse('Patient', `_cursor=${s}&_cursor=${s}`)).text).toMatch(/only once/);
  });
});

describe('unknown parameters: strict vs lenient', () => {
  test('strict: 400 naming the parameter and the way out', () => {
    const f = failure(() => parse('Patient', 'bogus=1'));
    expect(f.status).toBe(400);
    expect(f.text).toBe("Unknown search parameter 'bogus' for Patient (send 'Prefer: handling=lenient' to ignore unknown parameters)");
  });

  test('lenient: ignored, reported, left out of the self link', () => {
    const p = parse('Patient', 'bogus=1&family=x&_text=y&bogus=2&near=1', { lenient: true });
    expect(p.ignored).toEqual(['bogus', '_text', 'near']);
    expect(p.plan.where).toHaveLength(1);
    expect(p.selfParams).toEqual([
      ['family', 'x'],
      ['_count', '20'],
    ]);
  });

  test('lenient does not excuse an unknown modifier or a malformed value', () => {
    expect(failure(() => parse('Patient', 'family:bogus=x', { lenient: true })).text).toMatch(/unknown modifier ':bogus'/);
    expect(failure(() => parse('Patient', 'birthdate=2020-13', { lenient: true })).text).toMatch(/not a valid date/);
  });

  test('unsupported standard parameters are 400 when strict', () => {
    expect(failure(() => parse('Patient', '_text=x')).text).toMatch(/'_text' is not supported/);
    expect(failure(() => parse('Location', 'near=1|2|3')).text).toMatch(/'near' \(special\) is not supported/);
  });

  test('Medplum-only _compartment is unknown', () => {
    expect(failure(() => parse('Patient', '_compartment=Patient/1')).text).toMatch(/Unknown search parameter '_compartment'/);
  });
});

describe('selfParams', () => {
  test('canonical order: _type, search parameters by name then value, then result parameters; _format/_pretty dropped', () => {
    const p = parse(
      ['Patient', 'Practitioner'],
      '_format=json&_revinclude=Provenance:target&name=b&_count=10&_pretty=true&_type=Patient,Practitioner&family=z&name=a&_sort=-_lastUpdated&_total=none&_include:recurse=Patient:organization',
    );
    expect(p.selfParams).toEqual([
      ['_type', 'Patient,Practitioner'],
      ['family', 'z'],
      ['name', 'a'],
      ['name', 'b'],
      ['_sort', '-_lastUpdated'],
      ['_count', '10'],
      ['_total', 'none'],
      ['_include:iterate', 'Patient:organization'],
      ['_revinclude', 'Provenance:target'],
    ]);
  });

  test('the effective _count is echoed, and _summary / _elements as applied', () => {
    expect(parse('Patient', '_count=999&_elements=name,name,gender').selfParams).toEqual([
      ['_count', '100'],
      ['_elements', 'name,gender'],
    ]);
    expect(parse('Patient', '_summary=count').selfParams).toEqual([
      ['_count', '0'],
      ['_summary', 'count'],
    ]);
  });
});

test('a search without types is a 400', () => {
  expect(failure(() => parse([], 'name=x')).status).toBe(400);
});

describe('size limits', () => {
  const repeat = (n: number, p: string) => Array.from({ length: n }, () => p).join('&');
  const alternatives = (n: number) => `family=${Array.from({ length: n }, (_, i) => `n${i}`).join(',')}`;

  test('up to the limits a query is parsed', () => {
    expect(parse('Patient', repeat(MAX_SEARCH_PARAMETERS, 'family=a')).plan.where).toHaveLength(MAX_SEARCH_PARAMETERS);
    expect(parse('Patient', alternatives(MAX_SEARCH_VALUES)).plan.where).toHaveLength(1);
  });

  test('more search parameters is a 400 that says the limit', () => {
    expect(failure(() => parse('Patient', repeat(MAX_SEARCH_PARAMETERS + 1, 'family=a'))).text).toMatch(/at most 100 search parameters/);
  });

  test('more values in all is a 400; escaped commas are not separators', () => {
    expect(failure(() => parse('Patient', alternatives(MAX_SEARCH_VALUES + 1))).text).toMatch(/at most 500 values/);
    const escaped = `family=${Array.from({ length: MAX_SEARCH_VALUES + 10 }, () => 'a').join('\\,')}`;
    expect(parse('Patient', escaped).plan.where).toHaveLength(1);
  });

  test('result parameters do not count', () => {
    expect(parse('Patient', `${repeat(MAX_SEARCH_PARAMETERS, 'family=a')}&_count=5&_sort=family`).plan.count).toBe(5);
  });
});
