import type { AuditEvent } from '@medplum/fhirtypes';
import { auditEventId, chainLinkOf, linkHash, sealer } from '../../src/audit/chain';
import { CHAIN_EXTENSION } from '../../src/audit/codes';

const event: AuditEvent = {
  resourceType: 'AuditEvent',
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
  recorded: '2026-12-02T10:00:00.000Z',
  agent: [{ requestor: true, who: { display: 'Dr « Zoé » Müller\n' } }],
  source: { observer: { display: 'DMP FHIR server' } },
  meta: { versionId: '1', lastUpdated: '2026-12-02T10:00:00.000Z' },
};

describe('sealer: an AuditEvent serialized once, then sealed as a chain link', () => {
  it('gives the text of the whole sealed event, and its hash', () => {
    const seal = sealer(event, 'Patient/p1');
    const first = seal(undefined);
    expect(JSON.parse(first.json)).toEqual({
      ...event,
      id: auditEventId('Patient/p1', 1),
      extension: [{ url: CHAIN_EXTENSION, extension: [{ url: 'chain', valueString: 'Patient/p1' }, { url: 'seq', valuePositiveInt: 1 }] }],
    });
    expect(first.hash).toBe(linkHash(first.json));
    const next = seal({ seq: 7, hash: first.hash });
    expect(JSON.parse(next.json).id).toBe(auditEventId('Patient/p1', 8));
    expect(chainLinkOf(JSON.parse(next.json) as AuditEvent)).toEqual({ chain: 'Patient/p1', seq: 8, previous: first.hash });
    expect(next.hash).toBe(linkHash(next.json));
  });

  it('keeps other extensions, replaces a chain link already there, and drops a given id', () => {
    const other = { url: 'https://example.org/x', valueString: 'kept' };
    const sealed = JSON.parse(
      sealer({ ...event, id: 'forged', extension: [other, { url: CHAIN_EXTENSION, extension: [{ url: 'seq', valuePositiveInt: 99 }] }] }, 'Patient/p2')({ seq: 1, hash: 'h' }).json,
    ) as AuditEvent;
    expect(sealed.id).toBe(auditEventId('Patient/p2', 2));
    expect(sealed.extension?.map((e) => e.url)).toEqual([other.url, CHAIN_EXTENSION]);
    expect(chainLinkOf(sealed)).toEqual({ chain: 'Patient/p2', seq: 2, previous: 'h' });
  });

  it('seals an event with no other field', () => {
    const sealed = JSON.parse(sealer({} as AuditEvent, 'c')(undefined).json) as AuditEvent;
    expect(sealed).toEqual({ id: auditEventId('c', 1), extension: [{ url: CHAIN_EXTENSION, extension: [{ url: 'chain', valueString: 'c' }, { url: 'seq', valuePositiveInt: 1 }] }] });
  });
});
