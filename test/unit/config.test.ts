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
      notify: {
        sender: 'file',
        file: 'data/notifications.ndjson',
        smtpUrl: undefined,
        smtpFrom: undefined,
        webhookUrl: undefined,
        maxAttempts: 5,
        retryMs: 30000,
      },
      bundleMaxEntries: 1000,
      export: { dir: 'data/exports', ttlSeconds: 3600, maxRunning: 2 },
      binaryMaxBytes: 100 * 1024 * 1024,
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
      NOTIFY_SENDER: 'smtp',
      NOTIFY_FILE: '/var/log/dmp/notifications.ndjson',
      SMTP_URL: 'smtps://dmp:s3cret@smtp.example.fr:465',
      SMTP_FROM: 'DMP <ne-pas-repondre@dmp.example.fr>',
      NOTIFY_WEBHOOK_URL: 'https://sms.example.fr/hook',
      NOTIFY_MAX_ATTEMPTS: '8',
      NOTIFY_RETRY_MS: '60000',
      BUNDLE_MAX_ENTRIES: '250',
      EXPORT_TTL_SECONDS: '600',
      EXPORT_MAX_RUNNING: '4',
      BINARY_MAX_SIZE: '20mb',
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
      notify: {
        sender: 'smtp',
        file: '/var/log/dmp/notifications.ndjson',
        smtpUrl: 'smtps://dmp:s3cret@smtp.example.fr:465',
        smtpFrom: 'DMP <ne-pas-repondre@dmp.example.fr>',
        webhookUrl: 'https://sms.example.fr/hook',
        maxAttempts: 8,
        retryMs: 60000,
      },
      bundleMaxEntries: 250,
      export: { dir: '/var/lib/dmp/exports', ttlSeconds: 600, maxRunning: 4 },
      binaryMaxBytes: 20 * 1024 * 1024,
    });
  });

  test('the notification file defaults to DATA_DIR/notifications.ndjson', () => {
    expect(loadConfig({ DATA_DIR: '/var/lib/dmp' }).notify.file).toBe('/var/lib/dmp/notifications.ndjson');
    expect(loadConfig({ NOTIFY_SENDER: 'webhook', NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:9000/n' }).notify).toMatchObject({ sender: 'webhook', webhookUrl: 'http://127.0.0.1:9000/n' });
    expect(loadConfig({ NOTIFY_SENDER: 'console' }).notify.sender).toBe('console');
  });

  test('a bad SMTP_URL or NOTIFY_WEBHOOK_URL is refused without echoing it (it may hold a password)', () => {
    expect(() => loadConfig({ SMTP_URL: 'smtp//dmp:s3cret@host' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ SMTP_URL: 'smtp//dmp:s3cret@host' })).not.toThrow(/s3cret/);
    expect(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'hook?token=s3cret' })).not.toThrow(/s3cret/);
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
    [{ NOTIFY_SENDER: 'sms' }, /NOTIFY_SENDER/],
    [{ NOTIFY_SENDER: 'smtp' }, /NOTIFY_SENDER=smtp needs SMTP_URL and SMTP_FROM/],
    [{ NOTIFY_SENDER: 'smtp', SMTP_URL: 'smtp://127.0.0.1:25' }, /SMTP_FROM/],
    [{ NOTIFY_SENDER: 'webhook' }, /NOTIFY_WEBHOOK_URL/],
    [{ SMTP_URL: 'http://mail.example.fr' }, /SMTP_URL/],
    [{ SMTP_FROM: 'dmp' }, /SMTP_FROM/],
    [{ NOTIFY_WEBHOOK_URL: 'ftp://x/hook' }, /NOTIFY_WEBHOOK_URL/],
    [{ NOTIFY_MAX_ATTEMPTS: '0' }, /NOTIFY_MAX_ATTEMPTS/],
    [{ NOTIFY_MAX_ATTEMPTS: 'many' }, /NOTIFY_MAX_ATTEMPTS/],
    [{ NOTIFY_RETRY_MS: '-5' }, /NOTIFY_RETRY_MS/],
    [{ BUNDLE_MAX_ENTRIES: '0' }, /BUNDLE_MAX_ENTRIES/],
    [{ BUNDLE_MAX_ENTRIES: 'many' }, /BUNDLE_MAX_ENTRIES/],
    [{ BINARY_MAX_SIZE: '3gb' }, /BINARY_MAX_SIZE/],
    [{ BINARY_MAX_SIZE: 'big' }, /BINARY_MAX_SIZE/],
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
