import { ConfigError, loadConfig, parseByteSize } from '../../src/config';

describe('configuration from the environment', () => {
  test('defaults: loopback, port 8080, SQLite in ./data, 10 MB bodies', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      baseUrl: 'http://localhost:8080/fhir',
      dataDir: './data',
      mongodbUrl: undefined,
      mongodbDb: 'dmp',
      maxBodyBytes: 10 * 1024 * 1024,
      defaultPageSize: 20,
      maxPageSize: 1000,
      logLevel: 'info',
      auth: { kind: 'dev', issuer: 'http://localhost:8080/dev-issuer', audience: 'http://localhost:8080/fhir' },
      accessMatrixFile: undefined,
      validateDmpProfiles: true,
      bundleMaxEntries: 1000,
    });
  });

  test('every variable is read', () => {
    const c = loadConfig({
      PORT: '9090',
      HOST: '0.0.0.0',
      BASE_URL: 'https://dmp.example.fr/fhir/',
      DATA_DIR: '/var/lib/dmp',
      MONGODB_URL: 'mongodb://db.example:27017/?replicaSet=rs0',
      MONGODB_DB: 'dmp_prod',
      MAX_BODY_SIZE: '512kb',
      SEARCH_DEFAULT_COUNT: '50',
      SEARCH_MAX_COUNT: '200',
      LOG_LEVEL: 'warn',
      AUTH_ISSUER: 'https://idp.example.fr/realms/dmp',
      AUTH_AUDIENCE: 'dmp-api',
      AUTH_JWKS_URL: 'https://idp.example.fr/realms/dmp/certs',
      ACCESS_MATRIX_FILE: '/etc/dmp/matrix.json',
      BUNDLE_MAX_ENTRIES: '250',
    });
    expect(c).toEqual({
      port: 9090,
      host: '0.0.0.0',
      baseUrl: 'https://dmp.example.fr/fhir',
      dataDir: '/var/lib/dmp',
      mongodbUrl: 'mongodb://db.example:27017/?replicaSet=rs0',
      mongodbDb: 'dmp_prod',
      maxBodyBytes: 512 * 1024,
      defaultPageSize: 50,
      maxPageSize: 200,
      logLevel: 'warn',
      auth: {
        kind: 'external',
        issuer: 'https://idp.example.fr/realms/dmp',
        audience: 'dmp-api',
        jwksUrl: 'https://idp.example.fr/realms/dmp/certs',
        jwksFile: undefined,
      },
      accessMatrixFile: '/etc/dmp/matrix.json',
      validateDmpProfiles: true,
      bundleMaxEntries: 250,
    });
  });

  test.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ AUTH_AUDIENCE: 'x' }, /AUTH_ISSUER is required/],
    [{ AUTH_ISSUER: 'https://idp', AUTH_JWKS_FILE: '/a', AUTH_JWKS_URL: 'https://idp/certs' }, /not both/],
    [{ AUTH_ISSUER: 'idp' }, /AUTH_ISSUER/],
    [{ PORT: '70000' }, /PORT/],
    [{ BASE_URL: 'not a url' }, /BASE_URL/],
    [{ BASE_URL: 'ftp://x/fhir' }, /BASE_URL/],
    [{ MONGODB_URL: 'http://db' }, /MONGODB_URL/],
    [{ MAX_BODY_SIZE: 'big' }, /MAX_BODY_SIZE/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ SEARCH_DEFAULT_COUNT: '0' }, /SEARCH_DEFAULT_COUNT/],
    [{ SEARCH_DEFAULT_COUNT: '500', SEARCH_MAX_COUNT: '100' }, /SEARCH_DEFAULT_COUNT must not exceed/],
    [{ BUNDLE_MAX_ENTRIES: '0' }, /BUNDLE_MAX_ENTRIES/],
    [{ BUNDLE_MAX_ENTRIES: 'many' }, /BUNDLE_MAX_ENTRIES/],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test.each([
    ['1048576', 1048576],
    ['512kb', 524288],
    ['10MB', 10485760],
    ['1gb', 1073741824],
  ])('size %s is %i bytes', (raw, bytes) => {
    expect(parseByteSize('X', raw)).toBe(bytes);
  });
});
