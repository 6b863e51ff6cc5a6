import { MongoServerError, type Collection } from 'mongodb';

/** One document per resource type: `n` moves on every version written (see ResourceStore.changeMarker). */
export interface CounterDoc {
  _id: string;
  n: number;
}

export const COUNTERS = 'counters';

/**
 * Change counters of the MongoDB adapter. A write bumps its type's counter
 * after its version is committed and rolled forward, and the roll-forward of
 * a version a crash left pending bumps it too, so a committed version is
 * never missed by changeMarker; a bump with nothing new only costs a reload.
 */
export class ChangeCounters {
  constructor(private readonly counters: Collection<CounterDoc>) {}

  async bump(type: string): Promise<void> {
    try {
      await this.counters.updateOne({ _id: { $eq: type } }, { $inc: { n: 1 } }, { upsert: true });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) {
        throw err;
      }
      // Two first bumps of a type raced (FerretDB reports the loser's upsert as
      // a duplicate key, MongoDB may too): the counter exists now, bump it.
      await this.counters.updateOne({ _id: { $eq: type } }, { $inc: { n: 1 } });
    }
  }

  async marker(types: readonly string[]): Promise<string> {
    const docs = await this.counters.find({ _id: { $in: [...types] } }).toArray();
    return docs
      .sort((a, b) => (a._id < b._id ? -1 : 1))
      .map((d) => `${d._id}:${d.n}`)
      .join(',');
  }
}
