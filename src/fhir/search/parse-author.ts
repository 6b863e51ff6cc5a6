import { errors } from '../outcomes';
import { ContainedAuthorParam } from './contained-authors';
import type { ChainCondition, Condition } from './plan';

/** `given` / `family` with the string modifiers: what reaches the author's name wherever it is written. */
const NAME_PART = /^(given|family)(?::(?:exact|contains))?$/;

/**
 * ITI-67 `author.given` / `author.family` on DocumentReference: "the name
 * parts of the author person", wherever the document writes that person.
 * The plain chain `chain` (author -> Practitioner / Patient / RelatedPerson)
 * becomes one alternative of four, each matching the same string predicate:
 * 1. the chain itself;
 * 2. `author` is a PractitionerRole whose `practitioner` is a Practitioner
 *    with that name (the chain `author:PractitionerRole.practitioner.given`);
 * 3. `author` is a contained Practitioner, Patient or RelatedPerson, or a
 *    contained PractitionerRole whose `practitioner` is a contained
 *    Practitioner, with that name (the synthetic entries of
 *    contained-authors.ts);
 * 4. `author` is a contained PractitionerRole whose `practitioner` is a
 *    Practitioner (not contained) with that name.
 * Anything else (a type modifier `author:Practitioner.given`, `:missing`,
 * another target parameter, a search over other types too) keeps the plain
 * chain: undefined is returned. Every alternative is a chain or an entry
 * condition, so FhirService's access restriction reaches inside each, as
 * inside any chain.
 * @see https://profiles.ihe.net/ITI/MHD/ITI-67.html#2367412-message-semantics
 * @see https://hl7.org/fhir/R4/search.html#chaining
 */
export function documentAuthorCondition(
  types: readonly string[],
  head: { code: string; modifier: string | undefined },
  rest: string,
  chain: ChainCondition,
  depth: number,
  maxDepth: number,
  name: string,
): Condition | undefined {
  const match = NAME_PART.exec(rest);
  const inner = chain.where[0];
  if (
    head.code !== 'author' ||
    head.modifier !== undefined ||
    !match ||
    types.length === 0 ||
    !types.every((t) => t === 'DocumentReference') ||
    chain.where.length !== 1 ||
    inner.kind !== 'entry' ||
    inner.entryKind !== 'string' ||
    inner.negate
  ) {
    return undefined;
  }
  // Alternative 2 nests one chain deeper than the one asked for.
  if (depth + 2 > maxDepth) {
    throw errors.badRequest(`Parameter '${name}': chains and _has may nest at most ${maxDepth} levels (author.${match[1]} also follows PractitionerRole.practitioner)`);
  }
  const practitioner: Condition = { kind: 'chain', param: 'practitioner', targetTypes: ['Practitioner'], where: chain.where };
  const part = match[1] as 'given' | 'family';
  return {
    kind: 'anyOf',
    alternatives: [
      [chain],
      [{ kind: 'chain', param: 'author', targetTypes: ['PractitionerRole'], where: [practitioner] }],
      [{ ...inner, param: ContainedAuthorParam[part] }],
      [{ kind: 'chain', param: ContainedAuthorParam.practitioner, targetTypes: ['Practitioner'], where: chain.where }],
    ],
  };
}
