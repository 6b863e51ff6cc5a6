import { UniqueConflict, type VersionConflict } from '../store/port';
import { errors, type FhirError } from './outcomes';

/** Another resource already holds a unique key the write claims (DMP-RULES.md § 1: one Patient per INS). */
export function uniqueKeyTaken(): FhirError {
  return errors.conflict('Another resource already holds this identifier (one Patient per INS)');
}

/**
 * The answer to a group of writes that lost a race at commit
 * (ResourceStore.writeAll's GroupConflict): another resource took the
 * unique key (409), the version named by `If-Match` moved (412), or a
 * resource changed under the group (409, the client may try again).
 * @see https://hl7.org/fhir/R4/http.html#concurrency
 */
export function groupConflictOutcome(conflict: VersionConflict | UniqueConflict, ifMatch: boolean): FhirError {
  if (conflict instanceof UniqueConflict) return uniqueKeyTaken();
  return ifMatch
    ? errors.preconditionFailed(`If-Match: ${conflict.type}/${conflict.id} was changed by another request`)
    : errors.conflict(`${conflict.type}/${conflict.id} was changed by another request meanwhile; try again`);
}
