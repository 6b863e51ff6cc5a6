import type { SecurityInfo } from '../fhir/capability';
import { SCOPES_SUPPORTED } from './scopes';

/**
 * `/.well-known/smart-configuration`: how clients get tokens for this server
 * (public, like `/metadata`).
 * @see https://hl7.org/fhir/smart-app-launch/conformance.html
 */
export function smartConfiguration(s: SecurityInfo | undefined): Record<string, unknown> {
  return {
    ...(s ? { issuer: s.issuer } : {}),
    ...(s?.tokenEndpoint ? { token_endpoint: s.tokenEndpoint } : {}),
    ...(s?.authorizeEndpoint ? { authorization_endpoint: s.authorizeEndpoint } : {}),
    grant_types_supported: ['client_credentials', 'authorization_code'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: SCOPES_SUPPORTED,
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2', 'launch-standalone', 'context-standalone-patient'],
  };
}
