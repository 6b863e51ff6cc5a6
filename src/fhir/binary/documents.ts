import { AccessParam } from '../../access/codes';
import type { ResourceStore, VersionRecord } from '../../store/port';

/** Most documents looked at for one Binary (ITI-65 makes one; a Binary shared by many documents is unusual). */
const MAX_DOCUMENTS = 20;

/**
 * The current DocumentReferences through which a Binary may be read
 * (access/binary.ts): those whose attachments point at it (the synthetic
 * `dmp-binary` index entry, written with every document), and those its
 * `securityContext` names. Deleted documents grant nothing.
 */
export async function binaryDocuments(store: ResourceStore, binaryId: string, securityContext: readonly string[]): Promise<VersionRecord[]> {
  const page = await store.search({
    types: ['DocumentReference'],
    where: [{ kind: 'entry', entryKind: 'reference', param: AccessParam.binary, predicate: [[{ field: 'ref', op: 'eq', value: `Binary/${binaryId}` }]] }],
    sort: [],
    count: MAX_DOCUMENTS,
    total: false,
    include: [],
    revinclude: [],
    maxIncludes: 0,
  });
  const found = new Map(page.matches.map((v) => [v.id, v]));
  const named = securityContext.filter((id) => !found.has(id));
  for (const v of named.length > 0 ? await store.readMany('DocumentReference', named) : []) found.set(v.id, v);
  return [...found.values()].filter((v) => !v.deleted && v.json !== null);
}
