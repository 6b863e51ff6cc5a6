import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type KeyLike } from 'jose';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import { createAuthenticator } from '../../src/auth/authenticator';
import { keyLookup } from '../../src/auth/keys';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { securedApp } from '../support/app';
import { createTestAuth, TEST_AUDIENCE, TEST_ISSUER, type TestAuth } from '../support/auth';

const pro = { role: 'professional', rpps: '10000000001', profession: '10' } as const;

describe('authentication: every bad token is a 401 OperationOutcome with WWW-Authenticate', () => {
  let auth: TestAuth;
  let app: Express;
  let store: SqliteStore;
  let privateKey: KeyLike;
  beforeAll(async () => {
    auth = await createTestAuth();
    store = new SqliteStore({ dataDir: '', fileName: ':memory:' });
    app = securedApp(store, { authenticator: auth.authenticator });
    ({ privateKey } = await generateKeyPair('ES256'));
  });
  afterAll(() => store.close());

  const get = (authorization?: string) => {
    const r = request(app).get('/fhir/Practitioner');
    return authorization === undefined ? r : r.set('Authorization', authorization);
  };
  const expect401 = async (authorization: string | undefined, invalidToken = true) => {
    const res = await get(authorization);
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('login');
    expect(res.headers['www-authenticate']).toBe(invalidToken ? 'Bearer error="invalid_token"' : 'Bearer');
    if (authorization) expect(JSON.stringify(res.body)).not.toContain(authorization.slice(7, 40));
    return res;
  };
  const signed = (claims: Record<string, unknown>, edit: (j: SignJWT) => SignJWT = (j) => j) =>
    edit(new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'test-key' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('s').setIssuedAt().setExpirationTime('5m'));

  test('a valid token is accepted', async () => {
    expect((await get(`Bearer ${await auth.tokenFor(pro)}`)).status).toBe(200);
  });
  test('no token, or not a Bearer JWT', async () => {
    await expect401(undefined, false);
    await expect401('Basic dXNlcjpwYXNz');
    await expect401('Bearer not-a-jwt');
  });
  test('expired, beyond the 60 s clock skew (but accepted within it)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(`Bearer ${await signed(pro, (j) => j.setExpirationTime(now - 120)).sign(await testKey(auth))}`);
    expect((await get(`Bearer ${await signed(pro, (j) => j.setExpirationTime(now - 30)).sign(await testKey(auth))}`)).status).toBe(200);
  });
  test('not yet valid (nbf in the future beyond the skew)', async () => {
    await expect401(`Bearer ${await signed(pro, (j) => j.setNotBefore(Math.floor(Date.now() / 1000) + 300)).sign(await testKey(auth))}`);
  });
  test('alg none', async () => {
    const unsigned = new UnsecuredJWT({ ...pro }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('s').setExpirationTime('5m').encode();
    await expect401(`Bearer ${unsigned}`);
  });
  test('HS256 signed with the public key as the secret', async () => {
    const publicJwk = auth.jwks.keys[0];
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const pem = crypto.createPublicKey({ key: publicJwk as crypto.JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const key of [secret, new TextEncoder().encode(pem as string)]) {
      const token = await new SignJWT({ ...pro }).setProtectedHeader({ alg: 'HS256', kid: 'test-key' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('s').setExpirationTime('5m').sign(key);
      await expect401(`Bearer ${token}`);
    }
  });
  test('signed by an unknown key', async () => {
    await expect401(`Bearer ${await signed(pro).sign(privateKey)}`);
    await expect401(`Bearer ${await signed(pro, (j) => j.setProtectedHeader({ alg: 'ES256', kid: 'other' })).sign(privateKey)}`);
  });
  test('wrong issuer or audience', async () => {
    await expect401(`Bearer ${await signed(pro, (j) => j.setIssuer('https://evil.example')).sign(await testKey(auth))}`);
    await expect401(`Bearer ${await signed(pro, (j) => j.setAudience('https://other.example/fhir')).sign(await testKey(auth))}`);
  });
  test.each([
    ['a professional without rpps', { role: 'professional', profession: '10' }],
    ['a professional without profession', { role: 'professional', rpps: '10000000001' }],
    ['a regulator without rpps', { role: 'regulator' }],
    ['a patient without patient', { role: 'patient' }],
    ['a representative without patient', { role: 'representative' }],
    ['an unknown role', { role: 'superuser' }],
    ['an unknown purpose of use', { ...pro, purpose_of_use: 'curiosity' }],
    ['an RPPS that is not 11 digits', { ...pro, rpps: '123' }],
  ])('contradictory or malformed claims: %s', async (_what, claims) => {
    await expect401(`Bearer ${await signed(claims).sign(await testKey(auth))}`);
  });
  test('/metadata and the SMART configuration are public; everything else needs a token', async () => {
    expect((await request(app).get('/fhir/metadata')).status).toBe(200);
    const smart = await request(app).get('/.well-known/smart-configuration');
    expect(smart.status).toBe(200);
    expect(smart.body.capabilities).toContain('permission-v2');
    expect((await request(app).get('/fhir/.well-known/smart-configuration')).status).toBe(200);
    for (const path of ['/fhir/Patient', '/fhir/Patient/x', '/fhir/_history', '/fhir?_type=Patient']) {
      expect((await request(app).get(path)).status).toBe(401);
    }
    expect((await request(app).post('/fhir/Patient').send('{}')).status).toBe(401);
  });
});

/** The key the test authenticator trusts. */
async function testKey(auth: TestAuth): Promise<KeyLike> {
  return auth.privateKey;
}

describe('key sources', () => {
  let server: http.Server;
  let base: string;
  let jwks: { keys: JWK[] };
  let privateKey: KeyLike;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] };
    server = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks`, token_endpoint: `${base}/token` }));
      } else if (req.url === '/jwks') {
        res.end(JSON.stringify(jwks));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const token = () => new SignJWT({ ...pro }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(base).setAudience('aud').setSubject('s').setExpirationTime('5m').sign(privateKey);

  test.each([
    ['a JWKS URL', () => ({ kind: 'external' as const, issuer: base, audience: 'aud', jwksUrl: `${base}/jwks` })],
    ['discovery from the issuer', () => ({ kind: 'external' as const, issuer: base, audience: 'aud' })],
  ])('keys from %s verify a token', async (_what, cfg) => {
    const { keys, discovery } = await keyLookup(cfg(), '');
    const principal = await createAuthenticator({ issuer: base, audience: 'aud', keys }).authenticate(`Bearer ${await token()}`);
    expect(principal).toMatchObject({ role: 'professional', rpps: '10000000001', purposeOfUse: 'normal' });
    if (!('jwksUrl' in cfg())) expect(discovery?.token_endpoint).toBe(`${base}/token`);
  });
  test('a JWKS file', async () => {
    const file = path.join(os.tmpdir(), `jwks-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify(jwks));
    const { keys } = await keyLookup({ kind: 'external', issuer: base, audience: 'aud', jwksFile: file }, '');
    expect((await createAuthenticator({ issuer: base, audience: 'aud', keys }).authenticate(`Bearer ${await token()}`)).rpps).toBe('10000000001');
    fs.rmSync(file);
  });
  test('with AUTH_* set no development key is created or trusted; without, one is created once and reused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-devkey-'));
    await keyLookup({ kind: 'external', issuer: base, audience: 'aud', jwksUrl: `${base}/jwks` }, dir);
    expect(fs.existsSync(path.join(dir, 'auth'))).toBe(false);
    const first = await keyLookup({ kind: 'dev', issuer: 'http://localhost/dev-issuer', audience: 'aud' }, dir);
    const file = path.join(dir, 'auth', 'dev-signing-key.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const content = fs.readFileSync(file, 'utf8');
    await keyLookup({ kind: 'dev', issuer: 'http://localhost/dev-issuer', audience: 'aud' }, dir);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
    expect(first.source).toContain(file);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a local key set does not trust other keys', async () => {
    const other = await generateKeyPair('ES256');
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(other.publicKey)), kid: 'k1', alg: 'ES256' }] });
    await expect(createAuthenticator({ issuer: base, audience: 'aud', keys }).authenticate(`Bearer ${await token()}`)).rejects.toMatchObject({ status: 401 });
  });
});
