/**
 * Runs tasks one at a time per key, in arrival order (the adapter's own copy
 * of fhir/keyed-queue.ts: store/ does not import fhir/). The chain appends of
 * one process queue here per chain, so that they never race each other's
 * compare-and-set on the chain head; races between processes are settled
 * by that compare-and-set.
 */
export class PerKeyQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) {
        this.tails.delete(key);
      }
    });
    return result;
  }
}
