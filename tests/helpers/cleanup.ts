import { afterEach } from 'vitest';

/** A list of teardown steps run after each test, last registered first. */
export function cleanupList(): Array<() => Promise<void> | void> {
  const list: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of list.splice(0).reverse()) await c();
  });
  return list;
}
