import type { HumanName } from '@medplum/fhirtypes';

/**
 * A person's name as one line (`Dr Claire Durand`): the official name, else
 * the first; its `text`, else prefix, given names and family.
 * @see https://hl7.org/fhir/R4/datatypes.html#HumanName
 */
export function humanNameText(names: readonly HumanName[] | undefined): string | undefined {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return undefined;
  const text = n.text ?? [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ');
  return text.trim() || undefined;
}
