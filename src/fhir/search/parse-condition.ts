/**
 * One search parameter (name with modifiers, chains or `_has`, and its raw
 * value) -> one plan Condition. Repeated parameters give one condition each
 * (AND); commas inside a value are alternatives of the same condition (OR).
 * @see https://hl7.org/fhir/R4/search.html#combining
 */
import { isStoredResourceType } from '../definitions';
import { errors } from '../outcomes';
import type { ScalarEntryKind } from './index-entry';
import { lookupParam, paramOf, targetTypesOf, UnknownParamError, type ParamInfo } from './parse-params';
import {
  datePredicate,
  ofTypePredicate,
  referencePredicate,
  refIdentifierPredicate,
  stringPredicate,
  tokenTextPredicate,
  uriPredicate,
  valuePredicate,
  type ValueContext,
} from './parse-types';
import { or, splitEscaped, unescapeValue } from './parse-values';
import { documentAuthorCondition } from './parse-author';
import type { ChainCondition, Condition, EntryPredicate } from './plan';

/** Chains and `_has` nest at most this deep: enough for real queries, bounded for the store. */
export const MAX_CHAIN_DEPTH = 3;

/** Modifiers each type accepts (besides `:missing`, which all but composite accept). @see https://hl7.org/fhir/R4/search.html#modifiers */
const MODIFIERS: Record<string, readonly string[]> = {
  string: ['exact', 'contains'],
  token: ['not', 'text', 'of-type'],
  reference: ['identifier'],
  date: [],
  number: [],
  quantity: [],
  uri: ['above', 'below'],
  composite: [],
};

/** Every R4 modifier: one of these where it does not apply (or is not implemented) is "not supported", anything else "unknown". */
const R4_MODIFIERS = new Set(['missing', 'exact', 'contains', 'text', 'not', 'in', 'not-in', 'above', 'below', 'of-type', 'identifier']);

/** The comma-separated alternatives of a value, none empty. */
function alternatives(name: string, raw: string): string[] {
  const alts = splitEscaped(raw, ',');
  if (alts.some((a) => a === '')) {
    throw errors.badRequest(`Parameter '${name}' has an empty value`);
  }
  return alts;
}

function anyOf(name: string, raw: string, one: (alt: string) => EntryPredicate): EntryPredicate {
  return or(alternatives(name, raw).map(one));
}

function missing(name: string, info: ParamInfo, raw: string): Condition {
  if (info.type === 'composite' || info.type === 'special') {
    throw errors.badRequest(`Parameter '${name}': ':missing' is not supported on ${info.type} parameters`);
  }
  if (raw !== 'true' && raw !== 'false') {
    throw errors.badRequest(`Parameter '${name}' must be 'true' or 'false'`);
  }
  const cond: Condition = { kind: 'entry', entryKind: info.type, param: info.code, predicate: [[]] };
  return raw === 'true' ? { ...cond, negate: true } : cond;
}

function badModifier(name: string, code: string, modifier: string, info: ParamInfo): never {
  const known = R4_MODIFIERS.has(modifier) || isStoredResourceType(modifier);
  throw errors.badRequest(
    known
      ? `Parameter '${name}': modifier ':${modifier}' is not supported on ${info.type} parameter '${code}'`
      : `Parameter '${name}': unknown modifier ':${modifier}'`,
  );
}

/** `_id` and `_lastUpdated`: answered from the resource row, not from index entries. */
function resourceCondition(ctx: ValueContext, name: string, code: string, modifier: string | undefined, raw: string): Condition {
  if (code === '_id') {
    if (modifier !== undefined && modifier !== 'not') {
      throw errors.badRequest(`Parameter '${name}': only ':not' is supported on _id`);
    }
    const ids = [...new Set(alternatives(name, raw).map(unescapeValue))];
    return modifier === 'not' ? { kind: 'id', ids, negate: true } : { kind: 'id', ids };
  }
  if (modifier !== undefined) {
    throw errors.badRequest(`Parameter '${name}': modifiers are not supported on _lastUpdated`);
  }
  return { kind: 'lastUpdated', predicate: anyOf(name, raw, (a) => datePredicate(ctx, name, a)) };
}

/** A parameter without chain: `code[:modifier]=value`. */
function simpleCondition(ctx: ValueContext, types: readonly string[], path: string, raw: string, name: string): Condition {
  const parts = path.split(':');
  if (parts.length > 2) {
    throw errors.badRequest(`Parameter '${name}': only one modifier is allowed`);
  }
  const [code, modifier] = parts;
  if (code === '_id' || code === '_lastUpdated') {
    return resourceCondition(ctx, name, code, modifier, raw);
  }
  const info = lookupParam(types, code, name);
  if (info.type === 'special') {
    throw new UnknownParamError(name, `Parameter '${name}' (special) is not supported by this server`);
  }
  if (modifier === 'missing') {
    return missing(name, info, raw);
  }
  const kind = info.type as ScalarEntryKind;
  const entry = (predicate: EntryPredicate, extra: { negate?: true; param?: string } = {}): Condition => ({
    kind: 'entry',
    entryKind: kind,
    param: extra.param ?? info.code,
    predicate,
    ...(extra.negate ? { negate: true } : {}),
  });
  if (modifier !== undefined && !MODIFIERS[info.type].includes(modifier)) {
    // Reference `:Type` restricts the target type.
    if (info.type === 'reference' && isStoredResourceType(modifier)) {
      if (!targetTypesOf(info).includes(modifier)) {
        throw errors.badRequest(`Parameter '${name}': ${code} cannot refer to a ${modifier} (allowed: ${info.targets.join(', ')})`);
      }
      return entry(anyOf(name, raw, (a) => referencePredicate(ctx, info, name, a, modifier)));
    }
    badModifier(name, code, modifier, info);
  }
  switch (info.type) {
    case 'composite':
      return compositeCondition(ctx, info, name, raw);
    case 'string':
      return entry(anyOf(name, raw, (a) => stringPredicate(name, a, modifier as 'exact' | 'contains' | undefined)));
    case 'uri':
      return entry(anyOf(name, raw, (a) => uriPredicate(name, a, modifier as 'above' | 'below' | undefined)));
    case 'token':
      if (modifier === 'text') {
        return entry(anyOf(name, raw, (a) => tokenTextPredicate(name, a)));
      }
      if (modifier === 'of-type') {
        if (!info.identifier) {
          throw errors.badRequest(`Parameter '${name}': ':of-type' only applies to Identifier parameters`);
        }
        return entry(anyOf(name, raw, (a) => ofTypePredicate(name, a)), { param: `${info.code}:of-type` });
      }
      // `:not` = no entry matches any of the alternatives (resources without a value included).
      return entry(anyOf(name, raw, (a) => valuePredicate(ctx, info, name, a)), modifier === 'not' ? { negate: true } : {});
    case 'reference':
      if (modifier === 'identifier') {
        return entry(anyOf(name, raw, (a) => refIdentifierPredicate(name, a)));
      }
      return entry(anyOf(name, raw, (a) => valuePredicate(ctx, info, name, a)));
    default:
      return entry(anyOf(name, raw, (a) => valuePredicate(ctx, info, name, a)));
  }
}

/**
 * composite: `a$b`, each part parsed by its component's type; comma-separated
 * values are alternatives (anyOf).
 * @see https://hl7.org/fhir/R4/search.html#composite
 */
function compositeCondition(ctx: ValueContext, info: ParamInfo, name: string, raw: string): Condition {
  const anyOfParts = alternatives(name, raw).map((alt) => {
    const parts = splitEscaped(alt, '$');
    if (parts.length !== info.components.length) {
      throw errors.badRequest(
        `Parameter '${name}' needs ${info.components.length} parts separated by '$' (${info.components.map((c) => c.code).join('$')}), got '${alt}'`,
      );
    }
    return parts.map((p, i) => {
      const c = info.components[i];
      return { entryKind: c.type as ScalarEntryKind, predicate: valuePredicate(ctx, c, `${name} (${c.code})`, p) };
    });
  });
  return { kind: 'composite', param: info.code, anyOf: anyOfParts };
}

/**
 * Chained search: `subject:Patient.name=x`, `subject.name=x` (every target
 * type of `subject` that has `name`), nesting (`a.b.c=x`) as nested chains.
 * DocumentReference `author.given` / `author.family` also reach the authors
 * the document contains (parse-author.ts).
 * @see https://hl7.org/fhir/R4/search.html#chaining
 */
function chainCondition(ctx: ValueContext, types: readonly string[], path: string, raw: string, depth: number, name: string): Condition {
  const dot = path.indexOf('.');
  const head = path.slice(0, dot);
  const rest = path.slice(dot + 1);
  const [code, modifier, ...more] = head.split(':');
  if (more.length > 0) {
    throw errors.badRequest(`Parameter '${name}': only one modifier is allowed before '.'`);
  }
  const info = lookupParam(types, code, name);
  if (info.type !== 'reference') {
    throw errors.badRequest(`Parameter '${name}': cannot chain on '${code}', which is a ${info.type} parameter, not a reference`);
  }
  let targets: readonly string[];
  if (modifier !== undefined) {
    if (!isStoredResourceType(modifier) || !targetTypesOf(info).includes(modifier)) {
      throw errors.badRequest(`Parameter '${name}': ':${modifier}' is not a type '${code}' can refer to`);
    }
    targets = [modifier];
  } else {
    // Only the target types that define the next parameter can match.
    const next = rest.startsWith('_has:') ? undefined : rest.split(/[.:]/)[0];
    targets = next === undefined ? targetTypesOf(info) : targetTypesOf(info).filter((t) => paramOf(t, next) !== undefined);
    if (targets.length === 0) {
      throw new UnknownParamError(name, `Parameter '${name}': no type '${code}' can refer to has a search parameter '${next}'`);
    }
  }
  const chain: ChainCondition = { kind: 'chain', param: info.code, targetTypes: targets, where: [conditionOf(ctx, targets, rest, raw, depth + 1, name)] };
  return documentAuthorCondition(types, { code, modifier }, rest, chain, depth, MAX_CHAIN_DEPTH, name) ?? chain;
}

/**
 * Reverse chaining: `_has:Observation:patient:code=x` keeps the resources
 * that some Observation with that code refers to through `patient`. The
 * tail may itself be `_has:...` or a chain.
 * @see https://hl7.org/fhir/R4/search.html#has
 */
function hasCondition(ctx: ValueContext, types: readonly string[], path: string, raw: string, depth: number, name: string): Condition {
  const [, source, code, ...tail] = path.split(':');
  const rest = tail.join(':');
  if (!source || !code || !rest) {
    throw errors.badRequest(`Parameter '${name}': expected '_has:Type:reference:parameter'`);
  }
  if (!isStoredResourceType(source)) {
    throw errors.badRequest(`Parameter '${name}': unknown resource type '${source}'`);
  }
  const info = lookupParam([source], code, name);
  if (info.type !== 'reference') {
    throw errors.badRequest(`Parameter '${name}': '${source}.${code}' is a ${info.type} parameter, not a reference`);
  }
  const unreachable = types.filter((t) => !targetTypesOf(info).includes(t));
  if (unreachable.length > 0) {
    throw errors.badRequest(`Parameter '${name}': ${source}.${code} cannot refer to ${unreachable.join(', ')}`);
  }
  return { kind: 'has', sourceType: source, param: info.code, where: [conditionOf(ctx, [source], rest, raw, depth + 1, name)] };
}

/**
 * The condition of one parameter `path` (its name, or the part of it still to
 * parse inside a chain) and raw value, for resources of `types`. `name` is
 * the full parameter name, used in every message. Throws UnknownParamError
 * for unknown parameters (the caller decides between 400 and lenient
 * ignoring) and 400 for everything else.
 */
export function conditionOf(ctx: ValueContext, types: readonly string[], path: string, raw: string, depth = 0, name = path): Condition {
  if (depth > MAX_CHAIN_DEPTH) {
    throw errors.badRequest(`Parameter '${name}': chains and _has may nest at most ${MAX_CHAIN_DEPTH} levels`);
  }
  if (raw === '') {
    throw errors.badRequest(`Parameter '${name}' has an empty value`);
  }
  if (path.startsWith('_has:')) {
    return hasCondition(ctx, types, path, raw, depth, name);
  }
  if (path.includes('.')) {
    return chainCondition(ctx, types, path, raw, depth, name);
  }
  return simpleCondition(ctx, types, path, raw, name);
}
