import { smartScopesAllow } from '../../src/auth/scopes';

describe('SMART scopes', () => {
  test('a token without resource scopes is not restricted by scopes', () => {
    expect(smartScopesAllow([], 'Observation', 'delete')).toBe(true);
    expect(smartScopesAllow(['openid', 'fhirUser', 'launch'], 'Observation', 'create')).toBe(true);
  });
  test('v1: read grants read and search; write grants create, update, delete; * grants all', () => {
    expect(smartScopesAllow(['patient/Observation.read'], 'Observation', 'read')).toBe(true);
    expect(smartScopesAllow(['patient/Observation.read'], 'Observation', 'search')).toBe(true);
    expect(smartScopesAllow(['patient/Observation.read'], 'Observation', 'create')).toBe(false);
    expect(smartScopesAllow(['patient/Observation.read'], 'Condition', 'read')).toBe(false);
    expect(smartScopesAllow(['user/*.write'], 'DocumentReference', 'create')).toBe(true);
    expect(smartScopesAllow(['user/*.write'], 'DocumentReference', 'read')).toBe(false);
    expect(smartScopesAllow(['system/*.*'], 'Patient', 'delete')).toBe(true);
  });
  test('v2: the cruds letters, each granting its own interaction', () => {
    expect(smartScopesAllow(['patient/*.rs'], 'Observation', 'read')).toBe(true);
    expect(smartScopesAllow(['patient/*.rs'], 'Observation', 'search')).toBe(true);
    expect(smartScopesAllow(['patient/*.rs'], 'Observation', 'update')).toBe(false);
    expect(smartScopesAllow(['user/Observation.cruds'], 'Observation', 'delete')).toBe(true);
    expect(smartScopesAllow(['user/Observation.c'], 'Observation', 'create')).toBe(true);
    expect(smartScopesAllow(['user/Observation.c'], 'Observation', 'read')).toBe(false);
    // Letters out of order are not a valid v2 scope.
    expect(smartScopesAllow(['user/Observation.sr'], 'Observation', 'read')).toBe(false);
  });
  test('a v2 scope with a query grants nothing (not supported)', () => {
    expect(smartScopesAllow(['patient/Observation.rs?category=laboratory'], 'Observation', 'read')).toBe(false);
  });
});
