import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { createAuthenticator, type Authenticator } from '../../src/auth/authenticator';
import type { PurposeOfUse, Role } from '../../src/auth/principal';

export const TEST_ISSUER = 'https://idp.dmp.test';
export const TEST_AUDIENCE = 'https://dmp.test/fhir';

export interface TestClaims {
  role: Role;
  sub?: string;
  patient?: string;
  rpps?: string;
  profession?: string;
  purpose_of_use?: PurposeOfUse;
  organization?: string;
  scope?: string;
}

export interface TestAuth {
  authenticator: Authenticator;
  /** The public key set the authenticator trusts. */
  jwks: { keys: JWK[] };
  /** The trusted signing key (tests that forge tokens sign with it). */
  privateKey: KeyLike;
  /** A real ES256 token for the claims, signed by the trusted key. */
  tokenFor(claims: TestClaims, opts?: { expiresIn?: string }): Promise<string>;
}

/** An in-memory signing key, an authenticator that trusts it, and a token minter (DMP-RULES.md § 7 claims). */
export async function createTestAuth(): Promise<TestAuth> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  const jwks = { keys: [jwk] };
  const authenticator = createAuthenticator({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, keys: createLocalJWKSet(jwks) });
  return {
    authenticator,
    jwks,
    privateKey,
    tokenFor: (claims, opts = {}) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setSubject(claims.sub ?? `${claims.role}-${claims.rpps ?? claims.patient ?? 'client'}`)
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '5m')
        .sign(privateKey),
  };
}
