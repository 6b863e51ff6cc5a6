import { SignJWT } from 'jose';
import { parseArgs } from 'node:util';
import { principalFromClaims } from '../auth/claims';
import { devSigningKey } from '../auth/keys';
import { ConfigError, loadConfig } from '../config';

/**
 * `npm run token -- --role professional --rpps 10000000001 --profession 10`:
 * prints an access token signed with the development key that `npm start`
 * trusts when no AUTH_* setting is given (DMP-RULES.md § 7 claims, as flags).
 * Refuses to run when AUTH_* is set: a deployment's tokens come from its
 * identity provider.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      sub: { type: 'string' },
      patient: { type: 'string' },
      rpps: { type: 'string' },
      profession: { type: 'string' },
      purpose: { type: 'string' },
      organization: { type: 'string' },
      scope: { type: 'string' },
      exp: { type: 'string', default: '1h' },
    },
  });
  const config = loadConfig();
  if (config.auth.kind !== 'dev') {
    throw new ConfigError('AUTH_* is set: this server trusts its identity provider, not the development key');
  }
  const claims: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...values, purpose_of_use: values.purpose, purpose: undefined, exp: undefined })) {
    if (typeof v === 'string') claims[k] = v;
  }
  claims.sub ??= `${claims.role}-${claims.rpps ?? claims.patient ?? 'client'}`;
  principalFromClaims(claims); // the server would refuse anything else
  const { privateKey, kid } = await devSigningKey(config.dataDir);
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime(values.exp as string)
    .sign(privateKey);
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
