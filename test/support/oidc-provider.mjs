// A real OpenID provider (the oidc-provider package) for the end-to-end
// authentication test, run as its own process on loopback:
//   node oidc-provider.mjs PORT SIGNING_JWKS_FILE
// It issues client-credentials access tokens as ES256 JWTs carrying the DMP
// claims (DMP-RULES.md § 7) of a lab feeder. Prints "ready" when listening.
import fs from 'node:fs';
import Provider from 'oidc-provider';

const [, , port, jwksFile] = process.argv;
const issuer = `http://127.0.0.1:${port}`;
const audience = process.env.AUDIENCE ?? 'https://dmp.test/fhir';

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'lab-biomed',
      client_secret: 'lab-secret-for-tests-only',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: JSON.parse(fs.readFileSync(jwksFile, 'utf8')),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'system/*.cruds',
        audience,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  extraTokenClaims: () => ({ role: 'feeder', organization: 'lab-1' }),
});
provider.proxy = false;
const server = provider.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
