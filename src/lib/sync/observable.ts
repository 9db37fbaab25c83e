/** A value with subscribers; follows the Svelte store contract (subscribe calls back at once). */
export class Observable<T> {
  private current: T;
  private readonly listeners = new Set<(value: T) => void>();
  constructor(initial: T) {
    this.current = initial;
  }
  get value(): T {
    return this.current;
  }
  set(value: T): void {
    this.current = value;
    for (const l of [...this.listeners]) l(value);
  }
  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }
  /** Resolves with the first value (current or future) that satisfies `predicate`. */
  when(predicate: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      let stop: () => void = () => {};
      const timer = setTimeout(() => {
        stop();
        reject(new Error('timed out waiting for state'));
      }, timeoutMs);
      stop = this.subscribe((v) => {
        if (predicate(v)) {
          clearTimeout(timer);
          queueMicrotask(() => stop());
          resolve(v);
        }
      });
    });
  }
}
