/**
 * The patients a search is about, when its criteria name them: a search
 * "scoped to a patient" is refused (403) as a whole when the caller has no
 * right to that DMP (DMP-RULES.md § 5), instead of returning an empty page.
 * Undefined when the search names no patient.
 */
const DIRECT = new Set(['patient', 'subject', 'patient:Patient', 'subject:Patient']);
const BY_IDENTIFIER = new Set([
  'patient.identifier',
  'subject.identifier',
  'patient:Patient.identifier',
  'subject:Patient.identifier',
  'patient:identifier',
  'subject:identifier',
]);

export async function scopedPatients(
  types: readonly string[],
  params: readonly [string, string][],
  byIdentifier: (identifier: string) => Promise<string[]>,
): Promise<string[] | undefined> {
  const ids = new Set<string>();
  let named = false;
  for (const [key, value] of params) {
    if (DIRECT.has(key) || (key === '_id' && types.length === 1 && types[0] === 'Patient')) {
      named = true;
      for (const v of value.split(',')) {
        const m = /^(?:.*\/)?(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(v.trim());
        // `subject=Group/x` names no patient; only Patient references (or bare ids of `patient`) count.
        if (m && (key.startsWith('patient') || key === '_id' || /(^|\/)Patient\//.test(v))) ids.add(m[1]);
      }
    } else if (BY_IDENTIFIER.has(key)) {
      named = true;
      for (const v of value.split(',')) {
        for (const id of await byIdentifier(v.trim())) ids.add(id);
      }
    }
  }
  return named && ids.size > 0 ? [...ids] : undefined;
}
