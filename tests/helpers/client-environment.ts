/**
 * A vitest environment that is plain Node but transforms modules as the browser client would:
 * rune-state classes compile to Svelte's client runtime, where $effect and createSubscriber run.
 */
import type { Environment } from 'vitest/runtime';

export default {
  name: 'client-node',
  viteEnvironment: 'client',
  setup: () => ({ teardown: () => undefined }),
} satisfies Environment;
