import type { ContactPoint, Patient } from '@medplum/fhirtypes';
import type { ResourceStore } from '../../store/port';
import type { Contact } from './senders/sender';

/**
 * The patient's e-mail and mobile phone from Patient.telecom: a current one
 * (no ended period), preferring `rank` 1 then `use` home/mobile. Read
 * straight from the store: the dispatcher is the server, not a caller.
 * @see https://hl7.org/fhir/R4/datatypes.html#ContactPoint
 */
export async function patientContact(store: ResourceStore, patientId: string, nowMs: number): Promise<Contact | undefined> {
  const v = await store.readCurrent('Patient', patientId);
  if (!v || v.deleted || !v.json) return undefined;
  const telecom = (JSON.parse(v.json) as Patient).telecom ?? [];
  const current = telecom.filter((t) => t.value && !(t.period?.end && Date.parse(t.period.end) < nowMs) && t.use !== 'old');
  const email = best(current.filter((t) => t.system === 'email'));
  const phone = best(current.filter((t) => t.system === 'sms' || (t.system === 'phone' && t.use === 'mobile')));
  return { ...(email ? { email } : {}), ...(phone ? { phone } : {}) };
}

function best(points: ContactPoint[]): string | undefined {
  const score = (t: ContactPoint) => (t.rank ?? 1000) * 10 + (t.use === 'home' || t.use === 'mobile' ? 0 : 1);
  return [...points].sort((a, b) => score(a) - score(b))[0]?.value;
}
