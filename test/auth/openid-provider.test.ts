import { exportJWK, generateKeyPair } from 'jose';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { authenticatorFromConfig } from '../../src/auth/from-config';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { BASE_URL, securedApp } from '../support/app';
import { dmpDocument, dmpPatient } from '../support/dmp-world';
import { freePort } from '../support/server-process';

/**
 * End to end with a real OpenID provider (oidc-provider, its own process on
 * loopback): client-credentials tokens carrying the DMP claims are verified
 * through discovery, and a rotated provider key is picked up without
 * restarting the server.
 */
describe('a real OpenID provider issues the tokens', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-oidc-'));
  let port: number;
  let provider: ChildProcess | undefined;
  let app: Express;
  let store: SqliteStore;
  const issuer = () => `http://127.0.0.1:${port}`;

  async function startProvider(kid: string): Promise<void> {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const file = path.join(dir, `${kid}.json`);
    fs.writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' }] }));
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'oidc-provider.mjs'), String(port), file], {
      env: { PATH: process.env.PATH, AUDIENCE: BASE_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    provider = child;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr?.on('data', (d) => (err += String(d)));
      child.stdout?.on('data', (d) => String(d).includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`provider exited ${code}: ${err}`)));
    });
  }

  async function stopProvider(): Promise<void> {
    const child = provider;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }

  async function clientCredentialsToken(): Promise<{ token: string; kid: string }> {
    const res = await fetch(`${issuer()}/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from('lab-biomed:lab-secret-for-tests-only').toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/*.cruds', resource: BASE_URL }),
    });
    expect(res.status).toBe(200);
    const token = ((await res.json()) as { access_token: string }).access_token;
    return { token, kid: JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid };
  }

  beforeAll(async () => {
    port = await freePort();
    await startProvider('key-1');
    const auth = await authenticatorFromConfig(
      { auth: { kind: 'external', issuer: issuer(), audience: BASE_URL }, dataDir: dir },
      { jwksCooldownMs: 0 },
    );
    expect(auth.security.tokenEndpoint).toBe(`${issuer()}/token`);
    store = new SqliteStore({ dataDir: '', fileName: ':memory:' });
    app = securedApp(store, { authenticator: auth.authenticator, security: auth.security });
  }, 30_000);
  afterAll(async () => {
    await stopProvider();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a lab system feeds a DMP with a client-credentials token, and the key rotation needs no restart', async () => {
    const first = await clientCredentialsToken();
    expect(first.kid).toBe('key-1');
    const bearer = (t: string) => `Bearer ${t}`;
    const patient = await request(app).post('/fhir/Patient').set('Authorization', bearer(first.token)).set('Content-Type', 'application/fhir+json').send(dmpPatient('290017512345605'));
    expect(patient.status).toBe(201);
    const report = await request(app)
      .post('/fhir/DocumentReference')
      .set('Authorization', bearer(first.token))
      .set('Content-Type', 'application/fhir+json')
      .send(dmpDocument(patient.body.id, '11502-2'));
    expect(report.status).toBe(201);
    // The feeder reads back its own submission.
    expect((await request(app).get(`/fhir/DocumentReference/${report.body.id}`).set('Authorization', bearer(first.token))).status).toBe(200);
    const metadata = await request(app).get('/fhir/metadata');
    expect(JSON.stringify(metadata.body.rest[0].security)).toContain(`${issuer()}/token`);

    // The provider rotates its signing key (restarted with a new one).
    await stopProvider();
    await startProvider('key-2');
    const second = await clientCredentialsToken();
    expect(second.kid).toBe('key-2');
    const again = await request(app).get(`/fhir/DocumentReference/${report.body.id}`).set('Authorization', bearer(second.token));
    expect(again.status).toBe(200);
    // A token signed by a key the provider never published is still refused.
    expect((await request(app).get('/fhir/Organization').set('Authorization', bearer(`${second.token.slice(0, -4)}AAAA`))).status).toBe(401);
  }, 30_000);
});
