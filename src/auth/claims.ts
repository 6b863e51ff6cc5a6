import Ajv from 'ajv';
import { PURPOSES_OF_USE, ROLES, type Principal, type Role } from './principal';

/**
 * JSON Schema of the DMP token claims (DMP-RULES.md § 7), checked after the
 * signature: a token whose claims contradict each other (a professional
 * without RPPS or profession, a patient without `patient`) is refused (401).
 * @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
export const CLAIMS_SCHEMA = {
  type: 'object',
  required: ['sub', 'role'],
  properties: {
    sub: { type: 'string', minLength: 1, maxLength: 256 },
    role: { enum: [...ROLES] },
    patient: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
    rpps: { type: 'string', pattern: '^[0-9]{11}$' },
    profession: { type: 'string', pattern: '^[0-9A-Za-z]{1,10}$' },
    purpose_of_use: { enum: [...PURPOSES_OF_USE] },
    organization: { type: 'string', minLength: 1, maxLength: 256 },
    scope: { type: 'string', maxLength: 4096 },
  },
  allOf: [
    { if: { properties: { role: { const: 'professional' } } }, then: { required: ['rpps', 'profession'] } },
    { if: { properties: { role: { const: 'regulator' } } }, then: { required: ['rpps'] } },
    { if: { properties: { role: { enum: ['patient', 'representative'] } } }, then: { required: ['patient'] } },
  ],
} as const;

const check = new Ajv({ allErrors: true }).compile(CLAIMS_SCHEMA);

/** The principal of verified claims, or an Error saying (without values) what is wrong. */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  if (!check(claims)) {
    const what = (check.errors ?? []).map((e) => `${e.instancePath || 'claims'} ${e.message}`).join('; ');
    throw new Error(`token claims are invalid: ${what}`);
  }
  const c = claims as Record<string, string | undefined>;
  return {
    sub: c.sub as string,
    role: c.role as Role,
    patient: c.patient,
    rpps: c.rpps,
    profession: c.profession,
    purposeOfUse: (c.purpose_of_use ?? 'normal') as Principal['purposeOfUse'],
    organization: c.organization,
    scopes: (c.scope ?? '').split(' ').filter(Boolean),
  };
}
