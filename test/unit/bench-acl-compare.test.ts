import { ACL_SETTINGS, median, roundOrder } from '../../bench/acl-compare';

// The access-control comparison of `npm run bench` (bench/acl-compare.ts): interleaved rounds, medians of per-round ratios.
describe('bench access-control comparison', () => {
  test('median: the middle value, or the mean of the two middle ones; unsorted input', () => {
    expect(median([3])).toBe(3);
    expect(median([0.9, 0.5, 0.7])).toBe(0.7);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test('the three servers are measured in a rotated order: over three rounds each comes first, second and third once', () => {
    const orders = [0, 1, 2].map(roundOrder);
    expect(orders[0]).toEqual(['on', 'no audit', 'off']);
    for (const order of orders) expect([...order].sort()).toEqual([...ACL_SETTINGS].sort());
    for (let position = 0; position < 3; position++) {
      expect(new Set(orders.map((o) => o[position])).size).toBe(3);
    }
    expect(roundOrder(3)).toEqual(orders[0]);
  });
});
