import { failure, ms, parse, where1 } from './search-parse-helpers';

const nameStarts = (v: string) => ({ kind: 'entry', entryKind: 'string', param: 'name', predicate: [[{ field: 'value', op: 'startsWith', value: v }]] });

describe('chained parameters', () => {
  test('subject:Patient.name: one level, restricted to Patient', () => {
    expect(where1('Observation', 'subject:Patient.name=dupont')).toEqual({
      kind: 'chain',
      param: 'subject',
      targetTypes: ['Patient'],
      where: [nameStarts('dupont')],
    });
  });

  test('subject.name: every target type of subject that has a name parameter', () => {
    // Observation.subject targets Group, Device, Patient, Location; Group and Device have no `name`.
    expect(where1('Observation', 'subject.name=dupont')).toEqual({
      kind: 'chain',
      param: 'subject',
      targetTypes: ['Location', 'Patient'],
      where: [nameStarts('dupont')],
    });
  });

  test('two levels nest: subject:Patient.organization.name', () => {
    expect(where1('Observation', 'subject:Patient.organization.name=chu')).toEqual({
      kind: 'chain',
      param: 'subject',
      targetTypes: ['Patient'],
      where: [{ kind: 'chain', param: 'organization', targetTypes: ['Organization'], where: [nameStarts('chu')] }],
    });
  });

  test('the leaf keeps its modifiers and OR values', () => {
    expect(where1('DiagnosticReport', 'subject:Patient.identifier=urn:oid:1.2.250.1.213.1.4.8|1,urn:oid:1.2.250.1.213.1.4.8|2')).toEqual({
      kind: 'chain',
      param: 'subject',
      targetTypes: ['Patient'],
      where: [
        {
          kind: 'entry',
          entryKind: 'token',
          param: 'identifier',
          predicate: [
            [{ field: 'system', op: 'eq', value: 'urn:oid:1.2.250.1.213.1.4.8' }, { field: 'code', op: 'eq', value: '1' }],
            [{ field: 'system', op: 'eq', value: 'urn:oid:1.2.250.1.213.1.4.8' }, { field: 'code', op: 'eq', value: '2' }],
          ],
        },
      ],
    });
    expect(where1('Observation', 'patient.gender:not=male')).toEqual({
      kind: 'chain',
      param: 'patient',
      targetTypes: ['Patient'],
      where: [{ kind: 'entry', entryKind: 'token', param: 'gender', predicate: [[{ field: 'code', op: 'eq', value: 'male' }]], negate: true }],
    });
  });

  test('a chain can end on _id', () => {
    expect(where1('Observation', 'patient._id=p1')).toEqual({ kind: 'chain', param: 'patient', targetTypes: ['Patient'], where: [{ kind: 'id', ids: ['p1'] }] });
  });

  test.each([
    ['Observation', 'code.name=x', /cannot chain on 'code', which is a token parameter/],
    ['Observation', 'subject:Practitioner.name=x', /':Practitioner' is not a type 'subject' can refer to/],
    ['Observation', 'subject.bogus=x', /no type 'subject' can refer to has a search parameter 'bogus'/],
    ['Observation', 'subject:Patient.bogus=x', /Unknown search parameter 'subject:Patient.bogus' for Patient/],
    ['Observation', 'subject:Patient.birthdate=notadate', /'subject:Patient.birthdate': 'notadate' is not a valid date/],
    ['Observation', 'subject:Patient.birthdate=xx2020', /'subject:Patient.birthdate': unknown prefix 'xx'/],
    ['Observation', 'a.b.c.d.e=x', /Unknown search parameter 'a.b.c.d.e'/],
    ['Observation', 'subject:Patient.organization.partof.partof.name=x', /nest at most 3 levels/],
  ])('%s?%s is a 400', (type, q, message) => {
    const f = failure(() => parse(type, q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });
});

describe('_has (reverse chaining)', () => {
  test('_has:Observation:patient:code', () => {
    expect(where1('Patient', '_has:Observation:patient:code=1234-5')).toEqual({
      kind: 'has',
      sourceType: 'Observation',
      param: 'patient',
      where: [{ kind: 'entry', entryKind: 'token', param: 'code', predicate: [[{ field: 'code', op: 'eq', value: '1234-5' }]] }],
    });
  });

  test('the tail may carry a modifier', () => {
    expect(where1('Patient', '_has:Observation:patient:code:text=glyc')).toEqual({
      kind: 'has',
      sourceType: 'Observation',
      param: 'patient',
      where: [{ kind: 'entry', entryKind: 'token', param: 'code', predicate: [[{ field: 'text', op: 'startsWith', value: 'glyc' }]] }],
    });
  });

  test('nested _has', () => {
    expect(where1('Patient', '_has:Observation:patient:_has:AuditEvent:entity:type=rest')).toEqual({
      kind: 'has',
      sourceType: 'Observation',
      param: 'patient',
      where: [
        {
          kind: 'has',
          sourceType: 'AuditEvent',
          param: 'entity',
          where: [{ kind: 'entry', entryKind: 'token', param: 'type', predicate: [[{ field: 'code', op: 'eq', value: 'rest' }]] }],
        },
      ],
    });
  });

  test('the tail may be a chain', () => {
    expect(where1('Patient', '_has:Observation:patient:performer:Practitioner.name=house')).toEqual({
      kind: 'has',
      sourceType: 'Observation',
      param: 'patient',
      where: [{ kind: 'chain', param: 'performer', targetTypes: ['Practitioner'], where: [nameStarts('house')] }],
    });
  });

  test.each([
    ['_has:Observation:patient=x', /expected '_has:Type:reference:parameter'/],
    ['_has:Bogus:patient:code=x', /unknown resource type 'Bogus'/],
    ['_has:Observation:code:code=x', /'Observation.code' is a token parameter, not a reference/],
    ['_has:Observation:encounter:code=x', /Observation.encounter cannot refer to Patient/],
    ['_has:Observation:patient:bogus=x', /Unknown search parameter '_has:Observation:patient:bogus' for Observation/],
  ])('%s is a 400', (q, message) => {
    const f = failure(() => parse('Patient', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });
});

describe('_id and _lastUpdated', () => {
  test('_id is an IdCondition; :not negates it', () => {
    expect(where1('Patient', '_id=a,b,a')).toEqual({ kind: 'id', ids: ['a', 'b'] });
    expect(where1('Patient', '_id:not=a')).toEqual({ kind: 'id', ids: ['a'], negate: true });
  });

  test('_id with another modifier is a 400', () => {
    expect(failure(() => parse('Patient', '_id:missing=true')).text).toMatch(/only ':not' is supported on _id/);
  });

  test('_lastUpdated uses the date range semantics on the instant (low = high)', () => {
    expect(where1('Patient', '_lastUpdated=gt2024-06-01')).toEqual({
      kind: 'lastUpdated',
      predicate: [[{ field: 'high', op: 'gt', value: ms('2024-06-01T23:59:59.999Z') }]],
    });
    expect(parse('Patient', '_lastUpdated=ge2024&_lastUpdated=lt2025').plan.where).toEqual([
      {
        kind: 'lastUpdated',
        predicate: [
          [{ field: 'high', op: 'gt', value: ms('2024-12-31T23:59:59.999Z') }],
          [{ field: 'low', op: 'ge', value: ms('2024-01-01T00:00:00.000Z') }, { field: 'high', op: 'le', value: ms('2024-12-31T23:59:59.999Z') }],
        ],
      },
      { kind: 'lastUpdated', predicate: [[{ field: 'low', op: 'lt', value: ms('2025-01-01T00:00:00.000Z') }]] },
    ]);
  });

  test('_tag and _security are ordinary token parameters', () => {
    expect(where1('DocumentReference', '_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R')).toEqual({
      kind: 'entry',
      entryKind: 'token',
      param: '_security',
      predicate: [[{ field: 'system', op: 'eq', value: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality' }, { field: 'code', op: 'eq', value: 'R' }]],
    });
  });
});

describe('system search (several types)', () => {
  test('parameters every type has are allowed; reference targets are the union', () => {
    const { plan } = parse(['Observation', 'Condition'], 'patient=p1&_lastUpdated=2024&_type=Observation,Condition');
    expect(plan.types).toEqual(['Observation', 'Condition']);
    expect(plan.where[0]).toEqual({ kind: 'entry', entryKind: 'reference', param: 'patient', predicate: [[{ field: 'ref', op: 'eq', value: 'Patient/p1' }]] });
  });

  test('a parameter some type lacks is a 400 naming that type', () => {
    const f = failure(() => parse(['Observation', 'Patient'], 'code=x'));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/Unknown search parameter 'code' for Patient \(a system search may only use parameters every listed type has\)/);
  });

  test('_has must be able to reach every type', () => {
    expect(failure(() => parse(['Patient', 'Organization'], '_has:Observation:patient:code=x')).text).toMatch(/cannot refer to Organization/);
  });
});
