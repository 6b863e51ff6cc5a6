import { createHash, randomBytes } from 'node:crypto';
import { base64Content } from '../../src/fhir/binary/base64-content';
import { withoutLargeBase64 } from '../../src/fhir/validation/large-base64';

/** The pattern check large base64 had before (and still falls back to): the reference. */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
function patternAccepts(v: string): boolean {
  const pad = v.indexOf('=');
  return !(v.length % 4 !== 0 || NOT_BASE64.test(v) || (pad >= 0 && pad < v.length - 2));
}

describe('base64Content', () => {
  test('bytes, SHA-1 (base64) and SHA-256 (hex) of the text', () => {
    const bytes = randomBytes(100_000);
    const c = base64Content(bytes.toString('base64'));
    expect(c.bytes.equals(bytes)).toBe(true);
    expect(c.sha1()).toBe(createHash('sha1').update(bytes).digest('base64'));
    expect(c.sha256()).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(c.canonical).toBe(true);
  });

  test('a large text asked for again is not decoded again (same content, same hashes)', () => {
    const text = randomBytes(200_000).toString('base64');
    const first = base64Content(text);
    // A copy of the text (another string with the same characters) finds it too.
    expect(base64Content(`${text.slice(0, 10)}${text.slice(10)}`)).toBe(first);
    expect(base64Content(randomBytes(200_000).toString('base64'))).not.toBe(first);
  });

  test.each([
    ['', true],
    ['QQ==', true],
    ['QUI=', true],
    ['QUJD', true],
    ['QUJD\n', false],
    ['QU JD', false],
    ['QUJ', false],
    ['QU-D', false],
    ['QU_D', false],
    ['QU=D', false],
    ['Q===', false],
    ['QUé=', false],
    ['QU\u0100=', false],
    ['QUJ\u0000', false],
  ])('canonical(%j) is %s', (text, expected) => {
    expect(base64Content(text).canonical).toBe(expected);
  });

  test('canonical never accepts what the pattern check refuses (random texts with stray characters)', () => {
    const stray = ['$', ' ', '\n', '\r', '\t', '-', '_', '=', '.', 'é', '\u00ff', '\u0080', '\u0100', '\uffff', '\u0000', '\ud83d\ude00', 'A', '/', '+'];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const wrong: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let s = randomBytes(1 + rand(24)).toString('base64');
      for (let k = rand(4); k > 0; k--) {
        const at = rand(s.length + 1);
        s = s.slice(0, at) + stray[rand(stray.length)] + s.slice(at + rand(2));
      }
      if (base64Content(s).canonical && !patternAccepts(s)) wrong.push(s);
    }
    expect(wrong).toEqual([]);
  });
});

describe('withoutLargeBase64', () => {
  const MB = 1024 * 1024;
  test('large canonical base64 passes; large text with a stray character, or a lax ending the pattern allows, is judged as before', () => {
    const good = randomBytes(MB).toString('base64');
    expect(withoutLargeBase64({ resourceType: 'Binary', contentType: 'application/pdf', data: good }).issues).toEqual([]);
    const bad = `${good.slice(0, 1000)}!${good.slice(1001)}`;
    expect(withoutLargeBase64({ resourceType: 'Binary', contentType: 'application/pdf', data: bad }).issues.map((i) => i.details?.text)).toEqual(['Invalid base64Binary format']);
    // `=` then a letter at the very end is not canonical, but the pattern check has always let it through.
    const lax = `${good.slice(0, -4)}AA=A`;
    expect(patternAccepts(lax)).toBe(true);
    expect(withoutLargeBase64({ resourceType: 'Binary', contentType: 'application/pdf', data: lax }).issues).toEqual([]);
  });
});
