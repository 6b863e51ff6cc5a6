import type { Db } from 'mongodb';
import { numberFields } from '../../fhir/search/values';
import type { CurrentDoc, IdxElem, VersionDoc } from './documents';
import { RESOURCES, VERSIONS } from './indexes';

/** One document per upgrade done on this database, `_id` = its name. */
const MIGRATIONS = 'migrations';
const NAME = 'number-ranges';

/**
 * Databases written before number and quantity entries carried the range of
 * their value's text (`low`, `high`, index-entry.ts) get them added to their
 * index elements, once (a `migrations` document remembers it). Those
 * databases stored resources through `JSON.parse`, so a value's text was its
 * own `String(value)`: the range is computed from that, as extraction does.
 * A current document is only updated if still at the version read, so a
 * concurrent write (which brings its own ranges) always wins.
 * @see https://hl7.org/fhir/R4/search.html#number
 */
export async function addNumberRanges(db: Db): Promise<void> {
  const done = db.collection<{ _id: string; at: number }>(MIGRATIONS);
  if (await done.findOne({ _id: { $eq: NAME } })) return;
  const resources = db.collection<CurrentDoc>(RESOURCES);
  for await (const d of resources.find({}, { projection: { idx: 1, v: 1 } })) {
    if (withRanges(d.idx)) await resources.updateOne({ _id: { $eq: d._id }, v: { $eq: d.v } }, { $set: { idx: d.idx } });
  }
  const versions = db.collection<VersionDoc>(VERSIONS);
  for await (const d of versions.find({ 'pending.at': { $exists: true } }, { projection: { pending: 1 } })) {
    if (d.pending && withRanges(d.pending.idx)) await versions.updateOne({ _id: { $eq: d._id } }, { $set: { 'pending.idx': d.pending.idx } });
  }
  try {
    await done.insertOne({ _id: NAME, at: Date.now() });
  } catch (err) {
    // Two processes starting on one database both upgraded it (harmless, each update is conditional); one marker is enough.
    if ((err as { code?: number }).code !== 11000) throw err;
  }
}

/** Adds the missing ranges in place; true when something was added. */
function withRanges(idx: IdxElem[] | undefined): boolean {
  let changed = false;
  const fix = (el: Record<string, unknown>) => {
    if ((el.k === 'number' || el.k === 'quantity') && el.low === undefined && typeof el.value === 'number') {
      const { low, high } = numberFields(el.value, undefined);
      el.low = low;
      el.high = high;
      changed = true;
    }
  };
  for (const el of idx ?? []) {
    fix(el);
    if (el.k === 'composite') {
      for (const [key, part] of Object.entries(el)) if (/^c\d+$/.test(key) && typeof part === 'object' && part !== null) fix(part);
    }
  }
  return changed;
}
