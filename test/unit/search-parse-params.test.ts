import { getSearchParameters } from '@medplum/core';
import { loadDefinitions } from '../../src/fhir/definitions';
import { isIndexedFor, paramOf } from '../../src/fhir/search/parse-params';

test('every R4 search parameter of every stored type resolves (composite components included)', () => {
  const { resourceTypes } = loadDefinitions();
  let n = 0;
  for (const type of resourceTypes) {
    for (const code of Object.keys(getSearchParameters(type) ?? {})) {
      if (code === '_compartment') continue;
      const info = paramOf(type, code);
      if (!isIndexedFor(type, code)) {
        // A type of NARROW_INDEX: the parameter is deliberately unknown there.
        expect(info).toBeUndefined();
        continue;
      }
      expect(info?.code).toBe(code);
      if (info?.type === 'composite') {
        expect(info.components.length).toBeGreaterThanOrEqual(2);
        expect(info.components.every((c) => c.type !== 'composite' && c.type !== 'special')).toBe(true);
      }
      n++;
    }
  }
  expect(n).toBeGreaterThan(1000);
});

test('token parameters over Identifier are recognised for :of-type', () => {
  loadDefinitions();
  expect(paramOf('Patient', 'identifier')?.identifier).toBe(true);
  expect(paramOf('Patient', 'gender')?.identifier).toBe(false);
});
