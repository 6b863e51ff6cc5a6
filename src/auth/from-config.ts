import type { Config } from '../config';
import { createAuthenticator, type Authenticator } from './authenticator';
import { keyLookup } from './keys';
import type { SecurityInfo } from '../fhir/capability';

/** The authenticator of a configuration, and a line for the start-up log (no secrets). */
export async function authenticatorFromConfig(
  config: Pick<Config, 'auth' | 'dataDir'>,
  opts: { jwksCooldownMs?: number } = {},
): Promise<{ authenticator: Authenticator; describe: string; security: SecurityInfo }> {
  const { keys, source, discovery } = await keyLookup(config.auth, config.dataDir, opts.jwksCooldownMs);
  return {
    authenticator: createAuthenticator({ issuer: config.auth.issuer, audience: config.auth.audience, keys }),
    security: { issuer: config.auth.issuer, tokenEndpoint: discovery?.token_endpoint, authorizeEndpoint: discovery?.authorization_endpoint },
    describe: `${config.auth.kind === 'dev' ? 'DEVELOPMENT ' : ''}tokens from ${config.auth.issuer} for ${config.auth.audience}, keys: ${source}`,
  };
}
