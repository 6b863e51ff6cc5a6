import { createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey, type KeyLike } from 'jose';
import fs from 'node:fs';
import path from 'node:path';
import type { AuthConfig } from '../config';

/** How long a fetched key set is trusted before it is fetched again, and the least time between refetches on an unknown `kid`. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;

/**
 * The key lookup for token verification: a JWKS file, a JWKS URL, or the
 * issuer's discovery document (`jwks_uri`). Remote key sets are cached and
 * refetched when a token names an unknown `kid`, so a key rotation at the
 * provider needs no restart.
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html
 */
export async function keyLookup(
  auth: AuthConfig,
  dataDir: string,
  /** Least time between two fetches of a remote key set (an unknown `kid` refetches after it). */
  cooldownMs = JWKS_COOLDOWN_MS,
): Promise<{ keys: JWTVerifyGetKey; source: string; discovery?: OpenIdConfiguration }> {
  if (auth.kind === 'dev') {
    const { publicJwk } = await devSigningKey(dataDir);
    return { keys: createLocalJWKSet({ keys: [publicJwk] }), source: `development key in ${devKeyFile(dataDir)}` };
  }
  if (auth.jwksFile) {
    const jwks = JSON.parse(fs.readFileSync(auth.jwksFile, 'utf8')) as { keys?: JWK[] };
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      throw new Error(`AUTH_JWKS_FILE ${auth.jwksFile} holds no keys`);
    }
    return { keys: createLocalJWKSet(jwks as { keys: JWK[] }), source: `JWKS file ${auth.jwksFile}` };
  }
  const discovery = auth.jwksUrl ? undefined : await discover(auth.issuer);
  const jwksUrl = auth.jwksUrl ?? (discovery as OpenIdConfiguration).jwks_uri;
  return {
    keys: createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: JWKS_MAX_AGE_MS, cooldownDuration: cooldownMs }),
    source: `JWKS ${auth.jwksUrl ? 'URL' : 'discovered from the issuer'} ${jwksUrl}`,
    discovery,
  };
}

/** What the server reads of an issuer's OpenID discovery document. */
export interface OpenIdConfiguration {
  jwks_uri: string;
  token_endpoint?: string;
  authorization_endpoint?: string;
}

/** The issuer's OpenID discovery document (`jwks_uri` required). */
export async function discover(issuer: string): Promise<OpenIdConfiguration> {
  const res = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) {
    throw new Error(`OpenID discovery at ${issuer} answered ${res.status}`);
  }
  const doc = (await res.json()) as Record<string, unknown>;
  if (typeof doc.jwks_uri !== 'string') {
    throw new Error(`OpenID discovery at ${issuer} gives no jwks_uri`);
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { jwks_uri: doc.jwks_uri, token_endpoint: str(doc.token_endpoint), authorization_endpoint: str(doc.authorization_endpoint) };
}

/** Where the development signing key lives. */
export function devKeyFile(dataDir: string): string {
  return path.join(dataDir, 'auth', 'dev-signing-key.json');
}

/**
 * The development signing key (ES256), created once in DATA_DIR (mode 0600)
 * when no AUTH_* setting is given: `npm start` then trusts it and
 * `npm run token` signs with it.
 */
export async function devSigningKey(dataDir: string): Promise<{ privateKey: KeyLike | Uint8Array; publicJwk: JWK; kid: string }> {
  const file = devKeyFile(dataDir);
  if (!fs.existsSync(file)) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: `dev-${Date.now().toString(36)}` };
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
  }
  const jwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK & { kid: string };
  const { d: _private, ...publicJwk } = jwk;
  return { privateKey: await importJWK(jwk, 'ES256'), publicJwk, kid: jwk.kid };
}
