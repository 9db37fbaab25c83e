/**
 * The SMART Health Link viewer's address on the relay: the only page whose CSP lets it reach
 * other https hosts (server/static.ts, src/hooks.ts, docs/decisions/0031). Its own module so
 * the app shell can test for it without loading the viewer's code.
 */
export const SHL_VIEWER_PATH = '/shl';
