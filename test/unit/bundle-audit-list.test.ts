import { runTransaction } from '../../src/fhir/bundle/transaction';
import { TransactionPortImpl, type TransactionPaths } from '../../src/fhir/bundle/transaction-port';
import { errors } from '../../src/fhir/outcomes';
import type { ResourceStore, VersionWrite } from '../../src/store/port';

/** The per-entry list FhirService.transaction leaves for the AuditEvents (one per entry, DMP-RULES.md § 8). */
describe('transaction audit list', () => {
  const committed: VersionWrite[][] = [];
  const store = { writeAll: async (w: readonly VersionWrite[]) => void committed.push([...w]) } as unknown as ResourceStore;
  const stored = (type: string, id: string) => ({ type, id, versionId: 1, lastUpdated: '2026-01-01T00:00:00.000Z', json: JSON.stringify({ resourceType: type, id }) });
  const paths = (fail?: string): TransactionPaths => ({
    scopes: () => undefined,
    create: async (type, _b, opts, stage) => {
      if (type === fail) throw errors.badRequest('invalid');
      stage({ type, id: opts.id } as VersionWrite);
      return { resource: stored(type, opts.id as string), created: true };
    },
    update: async () => Promise.reject(new Error('unused')),
    patch: async () => Promise.reject(new Error('unused')),
    delete: async (type, id, _o, stage) => {
      stage({ type, id, deleted: true } as VersionWrite);
      return { deleted: true, versionId: 2 };
    },
    read: async (type, id) => stored(type, id),
    vread: async () => Promise.reject(new Error('unused')),
    search: async () => '{"resourceType":"Bundle"}',
    lookup: async () => ({ resourceType: 'Parameters' }),
    matchOne: async () => undefined,
    ifNoneExist: async () => undefined,
  });
  const bundle = [
    { resource: { resourceType: 'Observation' }, request: { method: 'POST', url: 'Observation' } },
    { request: { method: 'DELETE', url: 'Patient/old' } },
    { request: { method: 'GET', url: 'Patient/old' } },
  ];

  test('after a commit: every entry with its interaction, type, id, status and the resource as written (its DMPs come from it)', async () => {
    const port = new TransactionPortImpl(paths(), store);
    const done = await runTransaction(bundle, port, 'minimal', 'https://dmp.test/fhir');
    const list = port.audited(done);
    expect(list.map(({ index, interaction, type, status }) => [index, interaction, type, status])).toEqual([
      [0, 'create', 'Observation', 201],
      [1, 'delete', 'Patient', 200],
      [2, 'read', 'Patient', 200],
    ]);
    expect(JSON.parse(list[0].written as string).resourceType).toBe('Observation');
    expect(list[1].written).toBeUndefined();
    expect(list[1].id).toBe('old');
    // One commit, the delete first (processing order).
    expect(committed.at(-1)?.map((w) => w.type)).toEqual(['Patient', 'Observation']);
  });

  test('after a failure: the failing entry with its status, nothing committed', async () => {
    const before = committed.length;
    const port = new TransactionPortImpl(paths('Observation'), store);
    const err = await runTransaction(bundle, port, undefined, 'https://dmp.test/fhir').catch((e: unknown) => e);
    expect(port.audited(undefined, err)).toEqual([{ index: 0, interaction: 'create', type: 'Observation', id: expect.any(String), status: 400 }]);
    expect(committed.length).toBe(before);
  });
});
