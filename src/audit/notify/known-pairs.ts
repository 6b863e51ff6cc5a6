/**
 * The (professional, DMP) pairs this process knows to be notified already,
 * so that the everyday read costs no store access. Bounded: the oldest
 * entries go first, and a forgotten pair only costs one refused write (the
 * store's unique key still answers "already notified").
 */
export class KnownPairs {
  private readonly keys = new Set<string>();

  constructor(private readonly max = 100_000) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    if (this.keys.size >= this.max) {
      // A Set iterates in insertion order: the first key is the oldest.
      const oldest = this.keys.values().next().value as string;
      this.keys.delete(oldest);
    }
    this.keys.add(key);
  }
}
