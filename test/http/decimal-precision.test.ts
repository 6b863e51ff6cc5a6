import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';

// FHIR decimals keep their significant digits, and JSON carries them as number
// lexemes: https://hl7.org/fhir/R4/datatypes.html#decimal, https://hl7.org/fhir/R4/json.html#primitive
// Every assertion reads the raw answer text: supertest's parsed body would drop the digits too.

const DECIMALS = ['1.50', '0.0010', '1e2', '100.00', '-0.50', '-1.0e-3', '3.14159265358979323846', '12345678901234567890'];

/** Observation JSON text with `value` as the quantity (and a range and a component around it), verbatim. */
function observationText(value: string, extra = ''): string {
  const q = (v: string) => `{"value":${v},"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}`;
  return (
    `{"resourceType":"Observation","status":"final",${extra}"code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},` +
    `"valueQuantity":${q(value)},"referenceRange":[{"low":${q('3.90')},"high":${q('6.10')}}],` +
    `"component":[{"code":{"text":"ratio"},"valueQuantity":${q('42')}},{"code":{"text":"other"},"valueQuantity":${q(value)}}]}`
  );
}

/** The lexemes of every `"value":` member of a JSON text, in order. */
const valuesIn = (text: string): string[] => [...text.matchAll(/"value":\s*(-?[0-9.eE+-]+)/g)].map((m) => m[1]);

describe.each(STORES)('decimal precision ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  const send = (method: 'post' | 'put' | 'patch', url: string, body: string, type = FHIR_JSON, headers: Record<string, string> = {}) =>
    request(t.app)[method](url).set('Content-Type', type).set(headers).send(body);
  const get = (url: string) => request(t.app).get(url);

  test.each(DECIMALS)('%s: create, read, vread, update, history and _pretty keep it as sent', async (n) => {
    const expected = [n, '3.90', '6.10', '42', n];
    const created = await send('post', '/fhir/Observation', observationText(n));
    expect(created.status).toBe(201);
    expect(valuesIn(created.text)).toEqual(expected);
    const id = created.body.id as string;

    expect(valuesIn((await get(`/fhir/Observation/${id}`)).text)).toEqual(expected);
    expect(valuesIn((await get(`/fhir/Observation/${id}/_history/1`)).text)).toEqual(expected);
    const pretty = await get(`/fhir/Observation/${id}?_pretty=true`);
    expect(pretty.text).toContain(`"value": ${n},\n`);
    expect(valuesIn(pretty.text)).toEqual(expected);

    const updated = await send('put', `/fhir/Observation/${id}`, observationText('7.250', `"id":"${id}",`));
    expect(updated.status).toBe(200);
    expect(valuesIn(updated.text)).toEqual(['7.250', '3.90', '6.10', '42', '7.250']);
    expect(valuesIn((await get(`/fhir/Observation/${id}`)).text)).toEqual(['7.250', '3.90', '6.10', '42', '7.250']);

    const history = await get(`/fhir/Observation/${id}/_history`);
    expect(history.status).toBe(200);
    expect(valuesIn(history.text)).toEqual(['7.250', '3.90', '6.10', '42', '7.250', ...expected]);
    expect(valuesIn((await get('/fhir/Observation/_history?_count=100')).text)).toEqual(expect.arrayContaining(expected));
  });

  test('integers and plain decimals are unchanged, and the parsed values are numbers (validation, search)', async () => {
    const created = await send('post', '/fhir/Observation', observationText('5'));
    expect(created.status).toBe(201);
    expect(valuesIn(created.text)).toEqual(['5', '3.90', '6.10', '42', '5']);
    expect(created.body.valueQuantity.value).toBe(5);
    // Back to plain numbers only: nothing of the earlier texts survives (MongoDB drops its copy of the text).
    const id = created.body.id as string;
    await send('put', `/fhir/Observation/${id}`, observationText('1.50', `"id":"${id}",`));
    const plain = { ...created.body, meta: undefined, referenceRange: undefined, component: undefined, valueQuantity: { value: 1.5, unit: 'mmol/L' } };
    expect((await send('put', `/fhir/Observation/${id}`, JSON.stringify(plain))).status).toBe(200);
    const read = await get(`/fhir/Observation/${id}`);
    expect(valuesIn(read.text)).toEqual(['1.5']);
    expect(read.text).not.toContain('1.50');
    // A decimal that is not a number is still refused by the validator.
    const bad = await send('post', '/fhir/Observation', observationText('"1.50"'));
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
  });

  test('search results, _summary/_elements subsets and conditional create keep the texts', async () => {
    const marker = `"identifier":[{"system":"urn:lab","value":"dec-search-1"}],`;
    const created = await send('post', '/fhir/Observation', observationText('0.0010', marker));
    expect(created.status).toBe(201);
    const found = await get('/fhir/Observation?identifier=urn:lab|dec-search-1');
    expect(found.body.total).toBe(1);
    expect(valuesIn(found.text)).toEqual(['0.0010', '3.90', '6.10', '42', '0.0010']);
    const subset = await get('/fhir/Observation?identifier=urn:lab|dec-search-1&_elements=valueQuantity');
    expect(valuesIn(subset.text)).toEqual(['0.0010']);
    const again = await send('post', '/fhir/Observation', observationText('0.0010', marker), FHIR_JSON, { 'If-None-Exist': 'identifier=urn:lab|dec-search-1' });
    expect(again.status).toBe(200);
    expect(valuesIn(again.text)).toEqual(['0.0010', '3.90', '6.10', '42', '0.0010']);
    const conditionalUpdate = await send('put', '/fhir/Observation?identifier=urn:lab|dec-search-1', observationText('1e2', marker));
    expect(conditionalUpdate.status).toBe(200);
    expect(valuesIn(conditionalUpdate.text)).toEqual(['1e2', '3.90', '6.10', '42', '1e2']);
  });

  test('JSON Patch: a replaced, added, copied or moved value keeps its text; a replaced one loses the old', async () => {
    const id = (await send('post', '/fhir/Observation', observationText('1.50'))).body.id as string;
    const patch = (ops: string) => send('patch', `/fhir/Observation/${id}`, ops, 'application/json-patch+json');

    let res = await patch('[{"op":"replace","path":"/valueQuantity/value","value":2.50}]');
    expect(res.status).toBe(200);
    expect(valuesIn(res.text)).toEqual(['2.50', '3.90', '6.10', '42', '1.50']);
    res = await patch('[{"op":"replace","path":"/component/1/valueQuantity/value","value":1.5}]');
    expect(valuesIn(res.text)).toEqual(['2.50', '3.90', '6.10', '42', '1.5']);
    res = await patch(
      '[{"op":"add","path":"/component/0","value":{"code":{"text":"new"},"valueQuantity":{"value":0.100,"unit":"g"}}},' +
        '{"op":"copy","from":"/referenceRange/0/low","path":"/component/0/valueQuantity"},' +
        '{"op":"move","from":"/referenceRange/0/high/value","path":"/component/2/valueQuantity/value"},' +
        '{"op":"add","path":"/referenceRange/0/high/value","value":6.00},' +
        '{"op":"test","path":"/valueQuantity/value","value":2.5}]',
    );
    expect(res.status).toBe(200);
    // Component 0 (added) got the copied low (3.90); the moved high (6.10) replaced component 2's 1.5.
    const after = ['2.50', '3.90', '6.00', '3.90', '42', '6.10'];
    expect(valuesIn(res.text)).toEqual(after);
    expect(valuesIn((await get(`/fhir/Observation/${id}`)).text)).toEqual(after);
  });

  test('batch and transaction Bundles keep the texts in requests, responses (return=representation), PATCH entries and reads', async () => {
    const patchOps = Buffer.from('[{"op":"replace","path":"/valueQuantity/value","value":9.900}]').toString('base64');
    const target = (await send('post', '/fhir/Observation', observationText('1'))).body.id as string;
    const bundle = (type: string) =>
      `{"resourceType":"Bundle","type":"${type}","entry":[` +
      `{"fullUrl":"urn:uuid:6f7c0f4e-1111-4000-8000-000000000001","resource":${observationText('1.50')},"request":{"method":"POST","url":"Observation"}},` +
      `{"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"${patchOps}"},"request":{"method":"PATCH","url":"Observation/${target}"}}]}`;
    for (const type of ['transaction', 'batch']) {
      const res = await send('post', '/fhir', bundle(type), FHIR_JSON, { Prefer: 'return=representation' });
      expect(res.status).toBe(200);
      expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status[0])).toEqual(['2', '2']);
      expect(valuesIn(res.text)).toEqual(['1.50', '3.90', '6.10', '42', '1.50', '9.900', '3.90', '6.10', '42', '1']);
      const createdId = (res.body.entry[0].response.location as string).split('/')[1];
      expect(valuesIn((await get(`/fhir/Observation/${createdId}`)).text)).toEqual(['1.50', '3.90', '6.10', '42', '1.50']);
    }
    const read = `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation/${target}"}}]}`;
    expect(valuesIn((await send('post', '/fhir', read)).text)).toEqual(['9.900', '3.90', '6.10', '42', '1']);
  });

  describe('numeric search compares the precision ranges of the search value and of the stored text', () => {
    // name -> stored lexeme
    const stored: Record<string, string> = { a: '1.50', b: '1.5', c: '1.51', d: '1.4', f: '2.0', h: '1e2', i: '100' };
    const ids = new Map<string, string>();
    beforeAll(async () => {
      for (const [name, value] of Object.entries(stored)) {
        const res = await send('post', '/fhir/Observation', observationText(value, `"identifier":[{"system":"urn:dec-search","value":"${name}"}],`));
        expect(res.status).toBe(201);
        ids.set(res.body.id as string, name);
        const risk = `{"resourceType":"RiskAssessment","status":"final","identifier":[{"system":"urn:dec-search","value":"${name}"}],"subject":{"reference":"Patient/dec"},"prediction":[{"probabilityDecimal":${value}}]}`;
        const r = await send('post', '/fhir/RiskAssessment', risk);
        expect(r.status).toBe(201);
        ids.set(r.body.id as string, name);
      }
    });
    const names = async (query: string) => {
      const res = await get(`/fhir/${query}&identifier=urn:dec-search|&_count=100`);
      expect(res.status).toBe(200);
      return ((res.body.entry ?? []) as { resource: { id: string } }[]).map((e) => ids.get(e.resource.id)).sort().join(',');
    };

    test.each([
      // eq: the search range contains the stored one. 1.5 = [1.45, 1.55); 1.50 = [1.495, 1.505).
      ['1.5', 'a,b,c'],
      ['1.50', 'a'],
      ['1.51', 'c'],
      ['eq1.50', 'a'],
      ['ne1.50', 'b,c,d,f,h,i'],
      ['1e2', 'h,i'],
      ['100', 'i'],
      // The ordering prefixes compare the exact values.
      ['gt1.5', 'c,f,h,i'],
      ['ge1.50', 'a,b,c,f,h,i'],
      ['lt1.50', 'd'],
      ['le1.5', 'a,b,d'],
      // sa / eb: the stored range lies wholly above / below the search range.
      ['sa1.5', 'f,h,i'],
      ['eb1.5', 'd'],
      ['sa1.50', 'c,f,h,i'],
      // ap: overlaps the search range widened by 10% of the value: [1.35, 1.65].
      ['ap1.5', 'a,b,c,d'],
      ['ap1.9', 'f'],
    ])('value-quantity and probability=%s find %s', async (q, expected) => {
      expect(await names(`Observation?value-quantity=${encodeURIComponent(q)}`)).toBe(expected);
      expect(await names(`Observation?value-quantity=${encodeURIComponent(`${q}|http://unitsofmeasure.org|mmol/L`)}`)).toBe(expected);
      expect(await names(`RiskAssessment?probability=${encodeURIComponent(q)}`)).toBe(expected);
    });

    test('composite parameters and component values use the same ranges', async () => {
      expect(await names(`Observation?component-value-quantity=1.50`)).toBe('a');
      expect(await names(`Observation?combo-value-quantity=1.5`)).toBe('a,b,c');
    });
  });

  test('bad JSON is still a 400 OperationOutcome, with or without decimals; a huge body still 413', async () => {
    for (const bad of ['{"resourceType":"Observation","valueQuantity":{"value":1.50,}}', '{"value":01.5}', '{"value":1.50']) {
      const res = await send('post', '/fhir/Observation', bad);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.text).not.toContain('1.5');
    }
    const huge = observationText('1.50', `"note":[{"text":"${'x'.repeat(1024 * 1024)}"}],`);
    const res = await send('post', '/fhir/Observation', huge);
    expect(res.status).toBe(413);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
