import { svelte } from '@sveltejs/vite-plugin-svelte';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'node', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, 'tests/**/*.svelte.test.ts'] } },
      // Rune-state classes: compiled by the Svelte plugin, run with Svelte's client runtime.
      {
        extends: true,
        plugins: [svelte()],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'runes',
          include: ['tests/**/*.svelte.test.ts'],
          environment: './tests/helpers/client-environment.ts',
          // Svelte itself must resolve to its client runtime too, not Node's default (server) entry.
          server: { deps: { inline: [/svelte/] } },
        },
      },
    ],
  },
});
