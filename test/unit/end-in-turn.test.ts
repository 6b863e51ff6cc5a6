import type { ServerResponse } from 'node:http';
import { endInTurn } from '../../src/http/end-in-turn';

/** A response that records what is done to it, in order, into one shared log. */
function fakeResponse(name: string, log: string[], failOnEnd = false): ServerResponse {
  return {
    writeHead: (status: number) => log.push(`${name} head ${status}`),
    end: (body: string) => {
      if (failOnEnd) throw new Error('socket gone');
      log.push(`${name} end ${body}`);
    },
  } as unknown as ServerResponse;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('endInTurn', () => {
  test('fixes the headers at once and writes every body of the turn together, in order, at its end', async () => {
    const log: string[] = [];
    endInTurn(fakeResponse('a', log), 200, '{"a":1}');
    endInTurn(fakeResponse('b', log), 404, '{"b":2}');
    expect(log).toEqual(['a head 200', 'b head 404']);
    await Promise.resolve();
    expect(log).toHaveLength(2);
    await nextTurn();
    expect(log).toEqual(['a head 200', 'b head 404', 'a end {"a":1}', 'b end {"b":2}']);
  });

  test('an answer whose socket failed does not keep the others of its turn from going out', async () => {
    const log: string[] = [];
    endInTurn(fakeResponse('a', log, true), 200, 'x');
    endInTurn(fakeResponse('b', log), 200, 'y');
    await nextTurn();
    expect(log).toEqual(['a head 200', 'b head 200', 'b end y']);
  });

  test('an answer finished in a later turn leaves in that turn', async () => {
    const log: string[] = [];
    endInTurn(fakeResponse('a', log), 200, '1');
    await nextTurn();
    endInTurn(fakeResponse('b', log), 201, '2');
    expect(log).toEqual(['a head 200', 'a end 1', 'b head 201']);
    await nextTurn();
    expect(log.at(-1)).toBe('b end 2');
  });
});
