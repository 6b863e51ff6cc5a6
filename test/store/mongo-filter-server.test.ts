import { MongoClient } from 'mongodb';
import crypto from 'node:crypto';
import type { Filter } from '../../src/store/mongo/filter';
import { matches } from '../../src/store/mongo/filter-eval';

/**
 * The adapter's JavaScript filter evaluator (used where FerretDB cannot run
 * $elemMatch) must agree with the server on every filter shape it meets.
 */
/** Set by .ci/run; jest.config.js leaves this file out when it is not. */
const URL = process.env.MONGODB_URL as string;

/** Scalar-valued documents: the shapes compiled filters meet outside `$elemMatch` (and inside it, per entry). */
const DOCS = [
  { _id: 1, a: 1 },
  { _id: 2, a: 'x' },
  { _id: 3, a: null },
  { _id: 4 },
  { _id: 5, a: 2.5 },
  { _id: 6, a: 'é' },
  { _id: 7, a: '\u{1F600}' },
  { _id: 8, a: '\uFFFD' },
  { _id: 9, a: 'a.*c' },
  { _id: 10, s: { b: { lo: 3, hi: 9 } } },
  { _id: 11, s: { b: { lo: 'q', hi: 'z' } } },
  { _id: 12, s: {} },
  { _id: 13, t: true },
  { _id: 14, t: false, a: -4 },
];
const FILTERS: Filter[] = [
  {},
  { a: { $eq: 1 } },
  { a: { $eq: null } },
  { a: { $ne: null } },
  { a: { $gt: 1 } },
  { a: { $gte: 'x' } },
  { a: { $lt: 'z' } },
  { a: { $lte: 2.5 } },
  { a: { $in: [1, 'x', -4] } },
  { a: { $nin: [1, 'x'] } },
  { a: { $regex: 'a\\.\\*' } },
  { a: { $regex: '' } },
  { a: { $gt: '\uFFFD' } },
  { a: { $gte: 'a', $lt: 'f' } },
  { 's.b.lo': { $eq: null } },
  { 's.b.lo': { $ne: null } },
  { 's.b.lo': { $gt: 2 } },
  { 's.b.hi': { $lt: 'zz' } },
  { $or: [{ a: { $eq: 1 } }, { _id: { $eq: 4 } }] },
  { $nor: [{ a: { $eq: null } }] },
  { $and: [{ a: { $ne: null } }, { a: { $ne: 1 } }] },
  { t: { $eq: false } },
  { _id: { $in: [] } },
  { $or: [{ 's.b.lo': { $lt: 5 } }, { 's.b.lo': { $eq: null } }], _id: { $gt: 10 } },
];

describe('mongo filter evaluator agrees with the server', () => {
  const client = new MongoClient(URL);
  const dbName = `test_${crypto.randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    await client.connect();
    await client.db(dbName).collection('docs').insertMany(DOCS as never[]);
  });
  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  test.each(FILTERS.map((f) => [JSON.stringify(f), f]))('%s', async (_name, f) => {
    const server = (await client.db(dbName).collection('docs').find(f as Filter).toArray()).map((d) => d._id as unknown as number).sort((x, y) => x - y);
    const local = DOCS.filter((d) => matches(f as Filter, d)).map((d) => d._id);
    expect(local).toEqual(server);
  });
});
