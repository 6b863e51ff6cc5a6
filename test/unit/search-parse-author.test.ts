import { ContainedAuthorParam } from '../../src/fhir/search/contained-authors';
import { failure, parse, where1 } from './search-parse-helpers';

const starts = (param: string, v: string) => ({ kind: 'entry', entryKind: 'string', param, predicate: [[{ field: 'value', op: 'startsWith', value: v }]] });
const exact = (param: string, v: string) => ({ kind: 'entry', entryKind: 'string', param, predicate: [[{ field: 'exact', op: 'eq', value: v }]] });

/** The four alternatives of author.<part> (parse-author.ts), around the leaf `leaf(param)`. */
function authorName(part: 'given' | 'family', leaf: (param: string) => object) {
  return {
    kind: 'anyOf',
    alternatives: [
      [{ kind: 'chain', param: 'author', targetTypes: ['Patient', 'Practitioner'], where: [leaf(part)] }],
      [{ kind: 'chain', param: 'author', targetTypes: ['PractitionerRole'], where: [{ kind: 'chain', param: 'practitioner', targetTypes: ['Practitioner'], where: [leaf(part)] }] }],
      [leaf(ContainedAuthorParam[part])],
      [{ kind: 'chain', param: ContainedAuthorParam.practitioner, targetTypes: ['Practitioner'], where: [leaf(part)] }],
    ],
  };
}

describe('DocumentReference author.given / author.family (ITI-67): the author person wherever the document writes it', () => {
  test('author.given: the chain, through a PractitionerRole, the contained authors, a contained role\'s practitioner', () => {
    expect(where1('DocumentReference', 'author.given=Élo')).toEqual(authorName('given', (p) => starts(p, 'elo')));
  });

  test('author.family:exact keeps the modifier in every alternative; OR values too', () => {
    expect(where1('DocumentReference', 'author.family:exact=Lefèvre')).toEqual(authorName('family', (p) => exact(p, 'Lefèvre')));
    const contains = where1('DocumentReference', 'author.family:contains=fev,mart');
    const leaf = (p: string) => ({ kind: 'entry', entryKind: 'string', param: p, predicate: [[{ field: 'value', op: 'contains', value: 'fev' }], [{ field: 'value', op: 'contains', value: 'mart' }]] });
    expect(contains).toEqual(authorName('family', leaf));
  });

  test('a type modifier means only that type: author:Practitioner.given is the plain chain', () => {
    expect(where1('DocumentReference', 'author:Practitioner.given=jean')).toEqual({ kind: 'chain', param: 'author', targetTypes: ['Practitioner'], where: [starts('given', 'jean')] });
  });

  test('author:PractitionerRole.given stays unknown (PractitionerRole has no given): 400, or ignored when lenient', () => {
    const f = failure(() => parse('DocumentReference', 'author:PractitionerRole.given=jean'));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/Unknown search parameter 'author:PractitionerRole.given' for PractitionerRole/);
    expect(parse('DocumentReference', 'author:PractitionerRole.given=jean', { lenient: true }).plan.where).toEqual([]);
    // What reaches a PractitionerRole author's name is the nested chain FHIR already has.
    expect(where1('DocumentReference', 'author:PractitionerRole.practitioner.given=jean')).toEqual({
      kind: 'chain', param: 'author', targetTypes: ['PractitionerRole'],
      where: [{ kind: 'chain', param: 'practitioner', targetTypes: ['Practitioner'], where: [starts('given', 'jean')] }],
    });
  });

  test(':missing, other name parameters and other types keep the plain chain', () => {
    expect(where1('DocumentReference', 'author.given:missing=true')).toMatchObject({ kind: 'chain', param: 'author' });
    expect(where1('DocumentReference', 'author.name=jean')).toMatchObject({ kind: 'chain', param: 'author' });
    expect(where1('Composition', 'author.given=jean')).toMatchObject({ kind: 'chain', param: 'author' });
    expect(where1(['DocumentReference', 'Composition'], 'author.given=jean')).toMatchObject({ kind: 'chain', param: 'author' });
  });

  test('bad values are the 400s of any string search', () => {
    expect(failure(() => parse('DocumentReference', 'author.given=')).status).toBe(400);
    expect(failure(() => parse('DocumentReference', 'author.given=a,,b')).text).toMatch(/empty value/);
    expect(failure(() => parse('DocumentReference', 'author.given:text=a')).status).toBe(400);
  });

  test('nested deeper, the PractitionerRole alternative would pass the chain bound: a 400 that says why', () => {
    const f = failure(() => parse('DocumentReference', 'relatesto.relatesto.author.given=jean'));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/nest at most 3 levels \(author.given also follows PractitionerRole.practitioner\)/);
  });
});
