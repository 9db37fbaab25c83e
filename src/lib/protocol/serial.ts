/** A small serial executor: one async job at a time, in call order. */
export class SerialGate {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
