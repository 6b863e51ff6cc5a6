import { failure, parse, parsePairs, where1 } from './search-parse-helpers';

const entry = (entryKind: string, param: string, predicate: unknown, negate?: boolean) =>
  negate ? { kind: 'entry', entryKind, param, predicate, negate } : { kind: 'entry', entryKind, param, predicate };

describe('string parameters', () => {
  test('default is starts-with on the normalized value (accents, case, spaces)', () => {
    expect(where1('Patient', 'family=%C3%89lo%C3%AFse++Du')).toEqual(
      entry('string', 'family', [[{ field: 'value', op: 'startsWith', value: 'eloise du' }]]),
    );
  });

  test(':exact compares the original text', () => {
    expect(where1('Patient', 'family:exact=%C3%89lo%C3%AFse')).toEqual(entry('string', 'family', [[{ field: 'exact', op: 'eq', value: 'Éloïse' }]]));
  });

  test(':contains matches anywhere in the normalized value', () => {
    expect(where1('Patient', 'name:contains=MART')).toEqual(entry('string', 'name', [[{ field: 'value', op: 'contains', value: 'mart' }]]));
  });

  test('comma = OR inside one condition, repeated parameter = AND', () => {
    const { plan } = parse('Patient', 'given=jean,marie&given=paul');
    expect(plan.where).toEqual([
      entry('string', 'given', [[{ field: 'value', op: 'startsWith', value: 'jean' }], [{ field: 'value', op: 'startsWith', value: 'marie' }]]),
      entry('string', 'given', [[{ field: 'value', op: 'startsWith', value: 'paul' }]]),
    ]);
  });

  test('escaped comma, dollar, bar and backslash are literal characters', () => {
    const { plan } = parsePairs('Patient', [['family:exact', 'a\\,b\\$c\\|d\\\\e,f']]);
    expect(plan.where[0]).toEqual(
      entry('string', 'family', [[{ field: 'exact', op: 'in', value: ['a,b$c|d\\e', 'f'] }]]),
    );
  });

  test.each(['family=', 'family=a,,b', 'family=%20%20'])('%s is a 400 naming the parameter', (q) => {
    const f = failure(() => parse('Patient', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/'family' has an empty value/);
  });

  test.each(["family=' OR 1=1 --", 'family={"$gt":""}', 'family=.*', 'family=%25'])('injection-looking %s stays plain data', (q) => {
    const value = new URLSearchParams(q).get('family') as string;
    expect(where1('Patient', q)).toEqual(entry('string', 'family', [[{ field: 'value', op: 'startsWith', value: value.toLowerCase() }]]));
  });
});

describe('token parameters', () => {
  test.each([
    ['code', [[{ field: 'code', op: 'eq', value: 'male' }]]],
    ['http://hl7.org/fhir/administrative-gender|male', [[{ field: 'system', op: 'eq', value: 'http://hl7.org/fhir/administrative-gender' }, { field: 'code', op: 'eq', value: 'male' }]]],
    ['|male', [[{ field: 'system', op: 'isNull' }, { field: 'code', op: 'eq', value: 'male' }]]],
    ['http://hl7.org/fhir/administrative-gender|', [[{ field: 'system', op: 'eq', value: 'http://hl7.org/fhir/administrative-gender' }]]],
  ])('form %s', (form, predicate) => {
    const value = form === 'code' ? 'male' : form;
    expect(where1('Patient', `gender=${encodeURIComponent(value)}`)).toEqual(entry('token', 'gender', predicate));
  });

  test('several bare codes become one `in`', () => {
    expect(where1('Patient', 'gender=male,female')).toEqual(entry('token', 'gender', [[{ field: 'code', op: 'in', value: ['male', 'female'] }]]));
  });

  test('mixed forms stay separate alternatives', () => {
    expect(where1('Observation', 'code=http://loinc.org|1234-5,9999')).toEqual(
      entry('token', 'code', [
        [{ field: 'system', op: 'eq', value: 'http://loinc.org' }, { field: 'code', op: 'eq', value: '1234-5' }],
        [{ field: 'code', op: 'eq', value: '9999' }],
      ]),
    );
  });

  test(':not negates the whole match (resources without a value included)', () => {
    expect(where1('Patient', 'gender:not=male')).toEqual(entry('token', 'gender', [[{ field: 'code', op: 'eq', value: 'male' }]], true));
  });

  test(':text is starts-with on the normalized display text', () => {
    expect(where1('Observation', 'code:text=H%C3%A9moglobine')).toEqual(entry('token', 'code', [[{ field: 'text', op: 'startsWith', value: 'hemoglobine' }]]));
  });

  test(':of-type searches the <code>:of-type entries of an Identifier parameter', () => {
    expect(where1('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053')).toEqual(
      entry('token', 'identifier:of-type', [
        [{ field: 'system', op: 'eq', value: 'http://terminology.hl7.org/CodeSystem/v2-0203' }, { field: 'code', op: 'eq', value: 'MR|446053' }],
      ]),
    );
  });

  test('an escaped bar belongs to the code', () => {
    expect(parsePairs('Observation', [['code', 'sys|a\\|b']]).plan.where[0]).toEqual(
      entry('token', 'code', [[{ field: 'system', op: 'eq', value: 'sys' }, { field: 'code', op: 'eq', value: 'a|b' }]]),
    );
  });

  test.each([
    ['gender:of-type=a|b|c', /':of-type' only applies to Identifier/],
    ['identifier:of-type=a|b', /needs 'typeSystem\|typeCode\|value'/],
    ['gender=a|b|c', /more than one unescaped '\|'/],
    ['gender=|', /neither a system nor a code/],
    ['gender:in=http://vs', /':in' is not supported on token parameter 'gender'/],
    ['gender:below=x', /':below' is not supported/],
    ['gender:bogus=x', /unknown modifier ':bogus'/],
    ['gender:not:text=x', /only one modifier/],
  ])('%s is a 400', (q, message) => {
    const f = failure(() => parse('Patient', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });
});

describe('reference parameters', () => {
  test('a bare id matches that id in every allowed target type', () => {
    expect(where1('Patient', 'general-practitioner=abc')).toEqual(
      entry('reference', 'general-practitioner', [[{ field: 'ref', op: 'in', value: ['Organization/abc', 'Practitioner/abc', 'PractitionerRole/abc'] }]]),
    );
  });

  test('a single-target parameter gives one eq', () => {
    expect(where1('Observation', 'patient=p1')).toEqual(entry('reference', 'patient', [[{ field: 'ref', op: 'eq', value: 'Patient/p1' }]]));
  });

  test.each([
    ['Patient/p1', 'Patient/p1'],
    ['Patient/p1/_history/3', 'Patient/p1'],
    ['https://dmp.example/fhir/Patient/p1', 'Patient/p1'],
    ['https://other.example/fhir/Patient/p1', 'https://other.example/fhir/Patient/p1'],
  ])('%s is normalized like stored references', (value, ref) => {
    expect(where1('Observation', `subject=${encodeURIComponent(value)}`)).toEqual(entry('reference', 'subject', [[{ field: 'ref', op: 'eq', value: ref }]]));
  });

  test(':[Type] restricts the id to that type', () => {
    expect(where1('Observation', 'subject:Patient=p1')).toEqual(entry('reference', 'subject', [[{ field: 'ref', op: 'eq', value: 'Patient/p1' }]]));
  });

  test(':identifier matches Reference.identifier', () => {
    expect(where1('Observation', 'subject:identifier=urn:oid:1.2.250.1.213.1.4.8|123')).toEqual(
      entry('reference', 'subject', [[{ field: 'idSystem', op: 'eq', value: 'urn:oid:1.2.250.1.213.1.4.8' }, { field: 'idValue', op: 'eq', value: '123' }]]),
    );
  });

  test.each([
    ['subject:Practitioner=1', /cannot refer to a Practitioner/],
    ['subject:Patient=Group/1', /not a reference to a Patient/],
    ['subject=%23contained', /not a searchable reference/],
    ['subject:Bogus=1', /unknown modifier ':Bogus'/],
    ['subject:below=1', /':below' is not supported on reference/],
  ])('%s is a 400', (q, message) => {
    const f = failure(() => parse('Observation', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });
});

describe('uri parameters', () => {
  const url = 'http://acme.org/fhir/ValueSet/123';
  test('exact by default', () => {
    expect(where1('ValueSet', `url=${url}`)).toEqual(entry('uri', 'url', [[{ field: 'value', op: 'eq', value: url }]]));
  });
  test(':below is starts-with', () => {
    expect(where1('ValueSet', 'url:below=http://acme.org/fhir')).toEqual(entry('uri', 'url', [[{ field: 'value', op: 'startsWith', value: 'http://acme.org/fhir' }]]));
  });
  test(':above is the URL or any of its parent paths', () => {
    expect(where1('ValueSet', `url:above=${url}`)).toEqual(
      entry('uri', 'url', [[{ field: 'value', op: 'in', value: [url, 'http://acme.org/fhir/ValueSet', 'http://acme.org/fhir', 'http://acme.org'] }]]),
    );
  });
  test('_profile is an ordinary uri parameter', () => {
    expect(where1('Patient', '_profile=http://x/sd')).toEqual(entry('uri', '_profile', [[{ field: 'value', op: 'eq', value: 'http://x/sd' }]]));
  });
});
