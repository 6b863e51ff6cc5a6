import crypto from 'node:crypto';

/** The R4 `id` datatype: 1-64 of A-Z a-z 0-9 - . @see https://hl7.org/fhir/R4/datatypes.html#id */
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

/** A server-assigned logical id (UUID v4: unguessable, so ids reveal nothing about volume or order). */
export function newId(): string {
  return crypto.randomUUID();
}
