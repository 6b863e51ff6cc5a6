import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import type { TerminologyStore } from './terminology';

interface CodingLike {
  system?: string;
  code?: string;
}

/**
 * Checks a coded value against its binding, by strength: required = error
 * when no code is in the value set; extensible = warning when a code from
 * outside it is used; preferred and example: nothing. A value set that is
 * not loaded (or only partly expandable) is not guessed at: no issue.
 * @see https://hl7.org/fhir/R4/terminologies.html#strength
 */
export function checkBinding(
  terminology: TerminologyStore,
  binding: { strength: string; valueSet: string },
  v: unknown,
  typeCode: string | undefined,
  loc: string,
  issues: OperationOutcomeIssue[],
): void {
  if (binding.strength !== 'required' && binding.strength !== 'extensible') {
    return;
  }
  const codings = codingsOf(v, typeCode);
  if (codings === undefined) {
    return;
  }
  const expansion = terminology.expand(binding.valueSet);
  if (!expansion || !expansion.complete || expansion.codes.length === 0) {
    return;
  }
  const inSet = (c: CodingLike) =>
    c.code !== undefined && (c.system === undefined ? expansion.codes.some((x) => x.code === c.code) : expansion.keys.has(`${c.system}|${c.code}`));
  if (codings.length === 0 || codings.some(inSet)) {
    return;
  }
  const shown = codings.map((c) => `${c.system ?? ''}#${c.code ?? ''}`).join(', ');
  if (binding.strength === 'required') {
    issues.push(issue('code-invalid', `The code ${shown} is not in the value set ${binding.valueSet} (required binding)`, loc));
  } else {
    issues.push(issue('code-invalid', `The code ${shown} is not in the value set ${binding.valueSet} (extensible binding: use it when a code fits)`, loc, 'warning'));
  }
}

function codingsOf(v: unknown, typeCode: string | undefined): CodingLike[] | undefined {
  if (typeof v === 'string' && (typeCode === 'code' || typeCode === 'string' || typeCode === 'uri')) {
    return [{ code: v }];
  }
  if (typeof v !== 'object' || v === null) {
    return undefined;
  }
  if (typeCode === 'Coding' || (typeCode === undefined && 'code' in v)) {
    return [v as CodingLike];
  }
  if (typeCode === 'CodeableConcept') {
    const codings = (v as { coding?: CodingLike[] }).coding;
    return Array.isArray(codings) ? codings : [];
  }
  return undefined;
}
