import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { FhirError, issue, outcome } from '../fhir/outcomes';
import { principalFromClaims } from './claims';
import type { Principal } from './principal';

/**
 * Turns the `Authorization` header into a verified {@link Principal}, or
 * rejects with a 401 OperationOutcome carrying `WWW-Authenticate: Bearer`.
 * It knows no DMP rule (src/access decides).
 * @see https://hl7.org/fhir/R4/security.html
 */
export interface Authenticator {
  authenticate(authorizationHeader: string | undefined): Promise<Principal>;
}

export interface AuthenticatorOptions {
  issuer: string;
  audience: string;
  /** Key lookup: a local JWKS, a remote one (refetched on an unknown `kid`), or a test key. */
  keys: JWTVerifyGetKey;
  /** Clock, in epoch ms (tests). */
  now?: () => number;
}

/** Only asymmetric signatures: `none` and HMAC (e.g. HS256 keyed with the public key) are refused. */
export const ALGORITHMS = ['ES256', 'RS256'];
/** DMP-RULES.md § 7: at most 60 s of clock skew. */
export const CLOCK_TOLERANCE_S = 60;
/** Verified tokens kept, so a client's repeated requests do not pay the signature check each time. */
const CACHE_SIZE = 10_000;
const MAX_TOKEN_LENGTH = 16_384;

/** @see Authenticator */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { principal: Principal; expMs: number; nbfMs: number }>();
  return {
    async authenticate(header) {
      const token = bearerToken(header);
      const hit = cache.get(token);
      const t = now();
      if (hit && t < hit.expMs + CLOCK_TOLERANCE_S * 1000 && t >= hit.nbfMs - CLOCK_TOLERANCE_S * 1000) {
        return hit.principal;
      }
      let payload;
      try {
        ({ payload } = await jwtVerify(token, opts.keys, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['exp', 'sub'],
          currentDate: new Date(t),
        }));
      } catch (err) {
        throw invalidToken(describe(err));
      }
      let principal: Principal;
      try {
        principal = principalFromClaims(payload as Record<string, unknown>);
      } catch (err) {
        throw invalidToken((err as Error).message);
      }
      if (cache.size >= CACHE_SIZE) cache.clear();
      cache.set(token, { principal, expMs: (payload.exp as number) * 1000, nbfMs: ((payload.nbf as number | undefined) ?? 0) * 1000 });
      return principal;
    },
  };
}

function bearerToken(header: string | undefined): string {
  if (!header) {
    throw new FhirError(401, outcome(issue('login', 'Authentication required: send a Bearer access token')), { 'WWW-Authenticate': 'Bearer' });
  }
  const m = /^Bearer\s+([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]*\.[A-Za-z0-9\-_=]*)\s*$/i.exec(header);
  if (!m || m[1].length > MAX_TOKEN_LENGTH) {
    throw invalidToken('the Authorization header is not a Bearer JWT');
  }
  return m[1];
}

/** A 401 for a token that was sent but is not acceptable; the text never quotes the token. */
function invalidToken(why: string): FhirError {
  return new FhirError(401, outcome(issue('login', `Invalid access token: ${why}`)), {
    'WWW-Authenticate': 'Bearer error="invalid_token"',
  });
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" is not acceptable`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'signature algorithm not allowed (ES256 or RS256 only)';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'signed by an unknown key';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof joseErrors.JWKSTimeout) return 'the key set could not be fetched in time';
  return 'malformed or unverifiable';
}
