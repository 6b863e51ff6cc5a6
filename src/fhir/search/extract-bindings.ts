import { loadTerminology } from '../definitions';

/**
 * Value set URL (without `|version`) -> the one code system it draws from, or
 * null when it draws from several, includes other value sets, or is unknown.
 * Built once, on first use, from the shared R4 terminology (loadTerminology).
 */
let systems: Map<string, string | null> | undefined;

function load(): Map<string, string | null> {
  const map = new Map<string, string | null>();
  for (const [url, vs] of loadTerminology().valueSets) {
    let system: string | null = null;
    for (const inc of vs.compose?.include ?? []) {
      // An include without a system, or pulling in other value sets, makes
      // the code system of a bare code ambiguous: do not guess.
      if (!inc.system || inc.valueSet?.length || (system !== null && system !== inc.system)) {
        system = null;
        break;
      }
      system = inc.system;
    }
    map.set(url, system);
  }
  return map;
}

/**
 * The code system a `code` element implicitly uses, when its binding is
 * required and the value set has exactly one code system
 * (Patient.gender -> http://hl7.org/fhir/administrative-gender). A bare code
 * carries no system in the JSON; indexing it with this system makes
 * `gender=http://hl7.org/fhir/administrative-gender|male` match as well as
 * `gender=male`.
 * @see https://hl7.org/fhir/R4/search.html#token
 * @see https://hl7.org/fhir/R4/terminologies.html#code
 */
export function requiredBindingSystem(binding: { strength?: string; valueSet?: string } | undefined): string | null {
  if (binding?.strength !== 'required' || !binding.valueSet) {
    return null;
  }
  systems ??= load();
  const bar = binding.valueSet.indexOf('|');
  const url = bar >= 0 ? binding.valueSet.slice(0, bar) : binding.valueSet;
  return systems.get(url) ?? null;
}
