/** Polls `predicate` until it holds; for data conditions that no single event signals. */
export async function eventually(predicate: () => boolean, timeoutMs = 10_000, describe = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not reached in ${timeoutMs} ms ${describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
