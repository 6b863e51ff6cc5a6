import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The benchmark's own identity provider: an ES256 key whose public half the
 * server trusts through AUTH_JWKS_FILE, and tokens signed with it. The data
 * set is loaded by the médecin traitant of every bench patient (he sees
 * everything); the access-control workloads read as a pharmacist authorised
 * by a Consent on each patient, so the profession matrix filters every query.
 */
export const BENCH_ISSUER = 'https://bench.dmp.invalid/issuer';
export const GP_RPPS = '10000000001';
export const PHARMACIST_RPPS = '21000000002';
const RPPS_SYSTEM = 'https://rpps.esante.gouv.fr';

export interface BenchAuth {
  /** Environment for the server: AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_FILE. */
  env: Record<string, string>;
  /** `Bearer …` of the médecin traitant (loads and reads everything). */
  gp: string;
  /** `Bearer …` of the authorised pharmacist. */
  pharmacist: string;
  dispose(): void;
}

export async function createBenchAuth(audience: string): Promise<BenchAuth> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-bench-auth-'));
  const file = path.join(dir, 'jwks.json');
  fs.writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' }] }));
  const sign = (claims: Record<string, string>) => token(privateKey, audience, claims);
  return {
    env: { AUTH_ISSUER: BENCH_ISSUER, AUTH_AUDIENCE: audience, AUTH_JWKS_FILE: file },
    gp: `Bearer ${await sign({ sub: 'bench-gp', role: 'professional', rpps: GP_RPPS, profession: '10' })}`,
    pharmacist: `Bearer ${await sign({ sub: 'bench-pharmacist', role: 'professional', rpps: PHARMACIST_RPPS, profession: '21' })}`,
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function token(key: KeyLike, audience: string, claims: Record<string, string>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'bench' }).setIssuer(BENCH_ISSUER).setAudience(audience).setIssuedAt().setExpirationTime('12h').sign(key);
}

/** The médecin traitant every bench patient names (so the loader reads back what it stored). */
export const GENERAL_PRACTITIONER = [{ identifier: { system: RPPS_SYSTEM, value: GP_RPPS } }];

/** The pharmacist's own record of the patient's consent (DMP-RULES.md § 5: a professional may record a permit for himself). */
export function pharmacistConsent(patientId: string): Record<string, unknown> {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patientId}` },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { identifier: { system: RPPS_SYSTEM, value: PHARMACIST_RPPS } },
        },
      ],
    },
  };
}
