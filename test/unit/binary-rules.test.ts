import { attachmentBinaries, decideBinaryRead, securityContextDocuments } from '../../src/access/binary';
import { ALLOW, deny, hide, Reason } from '../../src/access/decision';
import { byteRange } from '../../src/fhir/binary/byte-range';

const BASE = 'https://dmp.test/fhir';

describe('Binary read decision (access/binary.ts)', () => {
  const binary = { creator: 'rpps|1', securityContext: ['d9'] };
  test('a readable document by the uploader grants the read, through that document', () => {
    expect(decideBinaryRead(deny(Reason.unknownPatient), binary, [{ id: 'd1', creator: 'rpps|1', decision: ALLOW }])).toEqual({ decision: ALLOW, via: 0 });
  });
  test('a document named by the securityContext grants it whoever wrote it', () => {
    expect(decideBinaryRead(deny(Reason.unknownPatient), binary, [{ id: 'd9', creator: 'rpps|2', decision: ALLOW }]).decision).toEqual(ALLOW);
  });
  test('a document of another author, not named by the Binary, grants nothing', () => {
    expect(decideBinaryRead(deny(Reason.unknownPatient), binary, [{ id: 'd2', creator: 'rpps|2', decision: ALLOW }]).decision.effect).toBe('hide');
  });
  test('every refusal is hidden (404), never a 403', () => {
    const v = decideBinaryRead(deny(Reason.unknownPatient), binary, [{ id: 'd1', creator: 'rpps|1', decision: deny(Reason.noAuthorisation) }]);
    expect(v).toEqual({ decision: hide(Reason.noAuthorisation), via: 0 });
    expect(decideBinaryRead(deny(Reason.unknownPatient), binary, []).decision).toEqual(hide(Reason.unknownPatient));
  });
  test('the uploader reads it with no document at all', () => {
    expect(decideBinaryRead(ALLOW, binary, []).decision).toEqual(ALLOW);
  });
  test('attachment URLs: relative, absolute under the base, versioned; others are not local Binaries', () => {
    const doc = {
      resourceType: 'DocumentReference',
      content: [{ attachment: { url: 'Binary/a' } }, { attachment: { url: `${BASE}/Binary/b/_history/2` } }, { attachment: { url: 'https://elsewhere.example/fhir/Binary/c' } }, { attachment: {} }],
    };
    expect(attachmentBinaries(doc as never, BASE)).toEqual(['a', 'b']);
    expect(securityContextDocuments({ resourceType: 'Binary', securityContext: { reference: `${BASE}/DocumentReference/d1` } } as never, BASE)).toEqual(['d1']);
  });
});

describe('Range header (fhir/binary/byte-range.ts)', () => {
  test.each([
    ['bytes=0-9', { start: 0, end: 10 }],
    ['bytes=90-', { start: 90, end: 100 }],
    ['bytes=-5', { start: 95, end: 100 }],
    ['bytes=-500', { start: 0, end: 100 }],
    ['bytes=50-500', { start: 50, end: 100 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=0-1,5-6', undefined],
    ['items=0-1', undefined],
    ['bytes=9-3', undefined],
  ])('%s over 100 bytes', (header, expected) => {
    expect(byteRange(header, 100)).toEqual(expected);
  });
});
