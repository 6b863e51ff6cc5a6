import path from 'node:path';
import type { ExportSettings } from './fhir/export/jobs';

/**
 * Environment to typed configuration. Every setting the server reads is here
 * (and in the README's table); a bad value stops start-up with a message that
 * names the variable.
 */
export interface Config {
  port: number;
  host: string;
  /** Public base of the FHIR endpoint, used in Location headers and Bundle links, without trailing slash. */
  baseUrl: string;
  /** Directory of the embedded SQLite database. */
  dataDir: string;
  /** When set, MongoDB is the store instead of SQLite. */
  mongodbUrl?: string;
  mongodbDb: string;
  /** Largest accepted request body, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Search page size when `_count` is absent, and the largest `_count` honoured. */
  defaultPageSize: number;
  maxPageSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where access-token keys come from (DMP-RULES.md § 7); `dev` when no AUTH_* is set. */
  auth: AuthConfig;
  /** Replacement profession matrix (JSON, see terminology/access/matrix.json). */
  accessMatrixFile?: string;
  /** Validate DMP resource types against their DMP profile even without meta.profile (VALIDATE_DMP_PROFILES, default true). */
  validateDmpProfiles: boolean;
  /** Most entries a batch or transaction Bundle may hold (BUNDLE_MAX_ENTRIES, default 1000; more is 413). */
  bundleMaxEntries: number;
  /** Largest Binary content in bytes (BINARY_MAX_SIZE, default 100mb, at most 2 GB - 1; 413 beyond). */
  binaryMaxBytes: number;
  /** How the patient's notifications are sent (DMP-RULES.md § 8 item 13; NOTIFY_*, SMTP_*). */
  notify: NotifyConfig;
  /** Bulk Data export: files in DATA_DIR/exports, removed EXPORT_TTL_SECONDS after the kick-off; at most EXPORT_MAX_RUNNING jobs at once. */
  export: ExportSettings;
}

/**
 * Notification delivery. `file` (default) appends JSON lines to `file`;
 * `console` prints them; `smtp` e-mails the patient (needs `smtpUrl` and
 * `smtpFrom`); `webhook` POSTs JSON to `webhookUrl`. A failed send is
 * retried `maxAttempts` times in all, `retryMs` after the first failure and
 * twice as long after each next one.
 */
export interface NotifyConfig {
  sender: 'file' | 'console' | 'smtp' | 'webhook';
  file: string;
  smtpUrl?: string;
  smtpFrom?: string;
  webhookUrl?: string;
  maxAttempts: number;
  retryMs: number;
}

/**
 * Token verification settings. `jwksFile` / `jwksUrl` give the keys
 * directly; with neither, they are discovered from `issuer`
 * (`/.well-known/openid-configuration` -> `jwks_uri`). `dev`: no AUTH_*
 * variable is set, so a local signing key in DATA_DIR is created and trusted.
 */
export type AuthConfig =
  | { kind: 'external'; issuer: string; audience: string; jwksFile?: string; jwksUrl?: string }
  | { kind: 'dev'; issuer: string; audience: string };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return n;
}

/** Parses sizes such as `1048576`, `512kb`, `10mb`. */
export function parseByteSize(name: string, raw: string): number {
  const m = /^\s*(\d+)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  if (!m) {
    throw new ConfigError(`${name} must be a size such as 1048576, 512kb or 10mb (got "${raw}")`);
  }
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit] as number;
  return Number(m[1]) * factor;
}

/** BINARY_MAX_SIZE: a size up to 2 GB - 1 (the content size is a FHIR integer in the stored Binary). */
function binaryMaxBytes(raw: string | undefined): number {
  const n = raw ? parseByteSize('BINARY_MAX_SIZE', raw) : 100 * 1024 ** 2;
  if (n < 1 || n > 2 ** 31 - 1) throw new ConfigError(`BINARY_MAX_SIZE must be between 1 byte and 2 GB - 1 (got "${raw}")`);
  return n;
}

function url(name: string, raw: string, protocols: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL (got "${raw}")`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.join(' or ')} (got "${parsed.protocol}")`);
  }
  return raw;
}

/** Reads the configuration from `env` (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const baseUrl = url('BASE_URL', env.BASE_URL || `http://localhost:${port}/fhir`, ['http:', 'https:']).replace(/\/+$/, '');
  const logLevel = (env.LOG_LEVEL || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${env.LOG_LEVEL}")`);
  }
  const defaultPageSize = integer(env, 'SEARCH_DEFAULT_COUNT', 20, 1, 10000);
  const maxPageSize = integer(env, 'SEARCH_MAX_COUNT', 1000, 1, 10000);
  if (defaultPageSize > maxPageSize) {
    throw new ConfigError('SEARCH_DEFAULT_COUNT must not exceed SEARCH_MAX_COUNT');
  }
  const validateDmpProfiles = (env.VALIDATE_DMP_PROFILES || 'true').toLowerCase();
  if (validateDmpProfiles !== 'true' && validateDmpProfiles !== 'false') {
    throw new ConfigError(`VALIDATE_DMP_PROFILES must be true or false (got "${env.VALIDATE_DMP_PROFILES}")`);
  }
  return {
    port,
    host,
    baseUrl,
    auth: authConfig(env, baseUrl, port),
    accessMatrixFile: env.ACCESS_MATRIX_FILE || undefined,
    dataDir: env.DATA_DIR || './data',
    mongodbUrl: env.MONGODB_URL ? url('MONGODB_URL', env.MONGODB_URL, ['mongodb:', 'mongodb+srv:']) : undefined,
    mongodbDb: env.MONGODB_DB || 'dmp',
    maxBodyBytes: env.MAX_BODY_SIZE ? parseByteSize('MAX_BODY_SIZE', env.MAX_BODY_SIZE) : 10 * 1024 ** 2,
    defaultPageSize,
    maxPageSize,
    logLevel,
    validateDmpProfiles: validateDmpProfiles === 'true',
    bundleMaxEntries: integer(env, 'BUNDLE_MAX_ENTRIES', 1000, 1, 100000),
    binaryMaxBytes: binaryMaxBytes(env.BINARY_MAX_SIZE),
    notify: notifyConfig(env, env.DATA_DIR || './data'),
    export: {
      dir: path.join(env.DATA_DIR || './data', 'exports'),
      ttlSeconds: integer(env, 'EXPORT_TTL_SECONDS', 3600, 1, 30 * 86400),
      maxRunning: integer(env, 'EXPORT_MAX_RUNNING', 2, 1, 100),
    },
  };
}

const NOTIFY_SENDERS = ['file', 'console', 'smtp', 'webhook'] as const;

/** A URL that may carry credentials (SMTP password, webhook token): a bad one is refused without echoing it. */
function secretUrl(name: string, raw: string, protocols: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL starting with ${protocols.join(' or ')} (value not shown: it may hold credentials)`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.join(' or ')} (got "${parsed.protocol}")`);
  }
  return raw;
}

/** NOTIFY_* and SMTP_*: the sender chosen, and what it needs, checked whenever set. */
function notifyConfig(env: NodeJS.ProcessEnv, dataDir: string): NotifyConfig {
  const sender = (env.NOTIFY_SENDER || 'file') as NotifyConfig['sender'];
  if (!NOTIFY_SENDERS.includes(sender)) {
    throw new ConfigError(`NOTIFY_SENDER must be one of ${NOTIFY_SENDERS.join(', ')} (got "${env.NOTIFY_SENDER}")`);
  }
  const smtpUrl = env.SMTP_URL ? secretUrl('SMTP_URL', env.SMTP_URL, ['smtp:', 'smtps:']) : undefined;
  const smtpFrom = env.SMTP_FROM || undefined;
  if (smtpFrom !== undefined && !/^(?:[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>)$/.test(smtpFrom.trim())) {
    throw new ConfigError(`SMTP_FROM must be an e-mail address such as dmp@example.fr or "DMP <dmp@example.fr>" (got "${smtpFrom}")`);
  }
  const webhookUrl = env.NOTIFY_WEBHOOK_URL ? secretUrl('NOTIFY_WEBHOOK_URL', env.NOTIFY_WEBHOOK_URL, ['http:', 'https:']) : undefined;
  if (sender === 'smtp' && (!smtpUrl || !smtpFrom)) {
    throw new ConfigError('NOTIFY_SENDER=smtp needs SMTP_URL and SMTP_FROM');
  }
  if (sender === 'webhook' && !webhookUrl) {
    throw new ConfigError('NOTIFY_SENDER=webhook needs NOTIFY_WEBHOOK_URL');
  }
  return {
    sender,
    file: env.NOTIFY_FILE || path.join(dataDir, 'notifications.ndjson'),
    smtpUrl,
    smtpFrom,
    webhookUrl,
    maxAttempts: integer(env, 'NOTIFY_MAX_ATTEMPTS', 5, 1, 100),
    retryMs: integer(env, 'NOTIFY_RETRY_MS', 30_000, 1, 86_400_000),
  };
}

const AUTH_VARS = ['AUTH_JWKS_FILE', 'AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const;

/** AUTH_* -> AuthConfig: all or nothing; the issuer is needed to check `iss` (and to discover keys). */
function authConfig(env: NodeJS.ProcessEnv, baseUrl: string, port: number): AuthConfig {
  if (!AUTH_VARS.some((v) => env[v])) {
    return { kind: 'dev', issuer: `http://localhost:${port}/dev-issuer`, audience: baseUrl };
  }
  if (!env.AUTH_ISSUER) {
    throw new ConfigError('AUTH_ISSUER is required when any AUTH_* variable is set (tokens are checked against it)');
  }
  if (env.AUTH_JWKS_FILE && env.AUTH_JWKS_URL) {
    throw new ConfigError('Set AUTH_JWKS_FILE or AUTH_JWKS_URL, not both');
  }
  return {
    kind: 'external',
    issuer: url('AUTH_ISSUER', env.AUTH_ISSUER, ['http:', 'https:']),
    audience: env.AUTH_AUDIENCE || baseUrl,
    jwksFile: env.AUTH_JWKS_FILE || undefined,
    jwksUrl: env.AUTH_JWKS_URL ? url('AUTH_JWKS_URL', env.AUTH_JWKS_URL, ['http:', 'https:']) : undefined,
  };
}
