/**
 * Kafka's fetch purgatory, reduced to what a long poll needs: a fetch that found fewer than
 * min.bytes waits on the partitions it asked for and is woken by the next append to any
 * of them, or by its max.wait.ms timer.
 */
export class FetchWaiters {
  private readonly byPartition = new Map<string, Set<() => void>>();
  /** Set on shutdown so that long polls answer at once. */
  closed = false;

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Resolves on the first append to one of `keys`, or after `timeoutMs`. */
  wait(keys: readonly string[], timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        for (const k of keys) {
          const set = this.byPartition.get(k);
          if (set === undefined) continue;
          set.delete(wake);
          if (set.size === 0) this.byPartition.delete(k);
        }
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      for (const k of keys) {
        let set = this.byPartition.get(k);
        if (set === undefined) {
          set = new Set();
          this.byPartition.set(k, set);
        }
        set.add(wake);
      }
    });
  }

  /** Wakes every fetch waiting on this partition. Hot path: one map look-up when nobody waits. */
  notify(key: string): void {
    const set = this.byPartition.get(key);
    if (set === undefined) return;
    for (const wake of [...set]) wake();
  }

  /** Wakes everyone and stops further waits (shutdown). */
  close(): void {
    this.closed = true;
    for (const set of [...this.byPartition.values()]) for (const wake of [...set]) wake();
  }
}
