import { normalizeString } from '../../src/fhir/search/index-entry';
import { dateRange, normalizeReference } from '../../src/fhir/search/values';

const iso = (v: string) => {
  const r = dateRange(v);
  return r && [new Date(r.low).toISOString(), new Date(r.high).toISOString()];
};

describe('dateRange: a FHIR date is the range its precision implies', () => {
  test.each([
    ['2020', '2020-01-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z'],
    ['2020-02', '2020-02-01T00:00:00.000Z', '2020-02-29T23:59:59.999Z'],
    ['2020-12', '2020-12-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z'],
    ['2019-12-31', '2019-12-31T00:00:00.000Z', '2019-12-31T23:59:59.999Z'],
    ['2020-03-04T10:00', '2020-03-04T10:00:00.000Z', '2020-03-04T10:00:59.999Z'],
    ['2020-03-04T10:00:05+02:00', '2020-03-04T08:00:05.000Z', '2020-03-04T08:00:05.999Z'],
    ['2020-03-04T10:00:05.12Z', '2020-03-04T10:00:05.120Z', '2020-03-04T10:00:05.129Z'],
    ['2020-03-04T10:00:05.123456Z', '2020-03-04T10:00:05.123Z', '2020-03-04T10:00:05.123Z'],
    ['0004-12', '0004-12-01T00:00:00.000Z', '0004-12-31T23:59:59.999Z'],
  ])('%s', (value, low, high) => {
    expect(iso(value)).toEqual([low, high]);
  });

  test.each(['2021-02-29', '2020-13', '2020-00', '20', 'abc', '2020-01-01T25:00', '2020-01-01T10:00+15:00', ''])(
    'rejects %s',
    (value) => {
      expect(dateRange(value)).toBeUndefined();
    },
  );
});

describe('normalizeReference', () => {
  const base = 'https://dmp.example/fhir';
  test.each([
    ['Patient/1', 'Patient/1', 'Patient', '1'],
    ['Patient/1/_history/3', 'Patient/1', 'Patient', '1'],
    [`${base}/Patient/1`, 'Patient/1', 'Patient', '1'],
    ['https://other.example/fhir/Patient/1', 'https://other.example/fhir/Patient/1', null, null],
    ['http://hl7.org/fhir/StructureDefinition/Patient|4.0.1', 'http://hl7.org/fhir/StructureDefinition/Patient', null, null],
    ['urn:uuid:7f1c2d3e-0000-4000-8000-000000000001', 'urn:uuid:7f1c2d3e-0000-4000-8000-000000000001', null, null],
  ])('%s', (input, ref, type, id) => {
    expect(normalizeReference(input, base)).toEqual({ ref, type, id });
  });

  test('a versioned canonical on this server is local', () => {
    expect(normalizeReference(`${base}/Questionnaire/q1|2`, base)).toEqual({ ref: 'Questionnaire/q1', type: 'Questionnaire', id: 'q1' });
    expect(normalizeReference('Questionnaire/q1|2', base)).toEqual({ ref: 'Questionnaire/q1', type: 'Questionnaire', id: 'q1' });
  });

  test('contained and conditional references are not indexable', () => {
    expect(normalizeReference('#c1', base)).toBeUndefined();
    expect(normalizeReference('Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|123', base)).toBeUndefined();
  });
});

/** The normalization by its definition, without shortcuts or memo. */
const fullNormalization = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\s+/g, ' ').trim();

describe('normalizeString: the ASCII shortcut and the memo give exactly the full normalization', () => {
  const samples = [
    'Durand',
    'LEFÈVRE',
    '  Élodie   Anne ',
    'tab\there',
    'Ǆemal İstanbul ß Œuvre',
    'Compte rendu d’hospitalisation',
    '',
    ' ',
    'a  b',
    'ÀÉÎÕÜ àéîõü ÇçÑñ',
    '\u00a0nbsp\u00a0',
    'ΣΊΣΥΦΟΣ',
  ];
  test.each(samples)('%j', (s) => {
    expect(normalizeString(s)).toBe(fullNormalization(s));
    expect(normalizeString(s)).toBe(fullNormalization(s)); // again, from the memo
  });

  test('accents and case fold: Élodie finds elodie', () => {
    expect(normalizeString('  Élodie   LEFÈVRE ')).toBe('elodie lefevre');
  });
});
