/**
 * Runs tasks one at a time per key, in arrival order. FhirService queues the
 * writes to one resource here, so that within one process writers never race
 * each other's compare-and-set (they would only waste validation and retries);
 * the store's compare-and-set still settles races between processes.
 */
export class KeyedQueue {
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
