/**
 * The classic design's `sync.Mutex`, made asynchronous. JavaScript has one thread, so a lock only matters
 * when it is held across an `await`: this one is, around every provider call, which is exactly where the
 * classic manager holds its lock. Waiters are served first come, first served.
 */
export class Mutex {
  private locked = false;
  private readonly waiters: Array<() => void> = [];
  private head = 0;

  /** Resolves once the caller holds the lock. Pair with {@link unlock}. */
  lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Hands the lock to the next waiter, or frees it. */
  unlock(): void {
    if (this.head < this.waiters.length) {
      const next = this.waiters[this.head] as () => void;
      this.head += 1;
      // Compact now and then, so a long-lived queue does not keep every served waiter.
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters.splice(0, this.head);
        this.head = 0;
      }
      next();
      return;
    }
    this.locked = false;
  }

  /** Runs `fn` while holding the lock: the `mu.Lock(); defer mu.Unlock()` idiom. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.lock();
    try {
      return await fn();
    } finally {
      this.unlock();
    }
  }
}
