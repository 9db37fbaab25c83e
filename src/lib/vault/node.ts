/**
 * What a Node client (the CLI) needs from the vault besides the profile facade: its local store,
 * one node:sqlite file per device directory (ciphertext envelopes only). The browser's
 * counterpart is browser.ts.
 */
export { sqlitePersistence, type NodePersistence } from '../storage/node.ts';
