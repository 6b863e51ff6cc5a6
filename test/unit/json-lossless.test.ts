import { cloneJson, hasLexemes, lexemeOf, numberText, setLexeme } from '../../src/fhir/json/lexemes';
import { hasExoticNumbers, parseJson, stringifyJson } from '../../src/fhir/json/lossless';

// FHIR decimals keep their significant digits: https://hl7.org/fhir/R4/datatypes.html#decimal

const EXOTIC = ['1.50', '0.0010', '1e2', '1E2', '100.00', '-0.0', '-0', '-1.50', '3.14159265358979323846', '12345678901234567890', '1e+21', '1.0e-7'];
const PLAIN = ['0', '42', '-7', '1.5', '0.001', '1e-7', '123456789012345', '-2.25'];

describe('lossless JSON', () => {
  test.each(EXOTIC)('%s is kept as sent, as a member and as an array element', (n) => {
    const text = `{"a":${n},"b":[${n},1,${n}],"c":{"d":${n}}}`;
    const v = parseJson(text) as { a: number; b: number[]; c: { d: number } };
    expect(typeof v.a).toBe('number');
    expect(v.a).toBe(Number(n));
    expect(v.c.d).toBe(Number(n));
    expect(stringifyJson(v)).toBe(text);
    expect(JSON.parse(stringifyJson(v, 2))).toEqual(JSON.parse(text));
    expect(stringifyJson(v, 2)).toContain(`"d": ${n}\n`);
  });

  test.each(PLAIN)('%s needs no side-car: the plain JSON.parse result comes back', (n) => {
    const text = `{"a":${n},"b":[${n}]}`;
    expect(hasExoticNumbers(text)).toBe(false);
    const v = parseJson(text);
    expect(hasLexemes(v)).toBe(false);
    expect(stringifyJson(v)).toBe(text);
  });

  test('numbers inside strings, escapes, nesting and whitespace', () => {
    const text = '{ "s" : "x\\"1.50\\\\", "t":"1.50", "k\\u00e9": [ { "v" : 1.50 } , [] , {} , true , false , null ] }';
    expect(hasExoticNumbers('{"s":"1.50","t":"a\\"1.50"}')).toBe(false);
    const v = parseJson(text) as Record<string, unknown>;
    expect(JSON.stringify(v)).toBe(JSON.stringify(JSON.parse(text)));
    expect(stringifyJson(v)).toBe('{"s":"x\\"1.50\\\\","t":"1.50","ké":[{"v":1.50},[],{},true,false,null]}');
    expect(stringifyJson(v, 2)).toBe(JSON.stringify(JSON.parse(text), null, 2).replace('"v": 1.5', '"v": 1.50'));
  });

  test('a duplicate key keeps the last value and its text, as JSON.parse does', () => {
    expect(stringifyJson(parseJson('{"a":1.50,"a":1.5}'))).toBe('{"a":1.5}');
    expect(stringifyJson(parseJson('{"a":1.5,"a":1.50}'))).toBe('{"a":1.50}');
    expect(stringifyJson(parseJson('{"a":1.50,"a":"x"}'))).toBe('{"a":"x"}');
  });

  test('__proto__ is an own member, never the prototype', () => {
    const v = parseJson('{"__proto__":{"x":1.0},"y":2.0}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(stringifyJson(v)).toBe('{"__proto__":{"x":1.0},"y":2.0}');
  });

  test('invalid JSON is still refused', () => {
    for (const bad of ['{"a":1.50,}', '{"a":01.5}', '{"a":1.50', '[1.50]x', '{"a":"\u0001"}']) {
      expect(() => parseJson(bad)).toThrow(SyntaxError);
    }
  });

  test('a changed value falls back to its own text; setLexeme and cloneJson', () => {
    const v = parseJson('{"q":{"value":1.50}}') as { q: { value: number } };
    expect(lexemeOf(v.q, 'value')).toBe('1.50');
    const copy = cloneJson(v);
    v.q.value = 2;
    expect(stringifyJson(v)).toBe('{"q":{"value":2}}');
    expect(numberText(v.q, 'value', 2)).toBe('2');
    expect(stringifyJson(copy)).toBe('{"q":{"value":1.50}}');
    setLexeme(copy.q, 'value', undefined);
    expect(stringifyJson(copy)).toBe('{"q":{"value":1.5}}');
    setLexeme(copy.q, 'value', '1.500');
    expect(stringifyJson(copy)).toBe('{"q":{"value":1.500}}');
    // Object spread (stampMeta, markCreator) copies the side-car with the members.
    expect(stringifyJson({ ...copy.q, unit: 'mg' })).toBe('{"value":1.500,"unit":"mg"}');
  });

  test('cloneJson copies every level (arrays, objects, side-cars in arrays), shares nothing, and survives any depth', () => {
    const v = parseJson('{"a":[1.50,{"b":[0.0010,"x"]}],"__proto__":{"c":1e2}}') as Record<string, unknown>;
    const copy = cloneJson(v);
    expect(stringifyJson(copy)).toBe('{"a":[1.50,{"b":[0.0010,"x"]}],"__proto__":{"c":1e2}}');
    expect(Array.isArray(copy.a)).toBe(true);
    expect(copy.a).not.toBe(v.a);
    ((v.a as unknown[])[1] as { b: unknown[] }).b[1] = 'changed';
    expect(stringifyJson(copy)).toContain('"x"');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    // 20,000 levels: a recursive copy would overflow the stack.
    const deep = JSON.parse(`${'{"e":['.repeat(20000)}1${']}'.repeat(20000)}`) as { e: unknown[] };
    let node: unknown = cloneJson(deep);
    let depth = 0;
    while (typeof node === 'object' && node !== null && 'e' in node) {
      node = (node as { e: unknown[] }).e[0];
      depth++;
    }
    expect(depth).toBe(20000);
    expect(node).toBe(1);
  });

  test('what JSON.stringify leaves out stays out', () => {
    const v = parseJson('{"a":1.50}') as Record<string, unknown>;
    Object.assign(v, { u: undefined, f: () => 1, n: Number.NaN, d: new Date(0), arr: [undefined, 1.0] });
    expect(stringifyJson(v)).toBe('{"a":1.50,"n":null,"d":"1970-01-01T00:00:00.000Z","arr":[null,1]}');
  });
});
