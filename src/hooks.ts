/**
 * The app routes by hash (svelte.config.js), but a SMART Health Link's fragment is the link
 * itself (`/shl#shlink:/…`, as the spec's viewer links are written). The page at the path
 * /shl therefore always shows the viewer route, whatever its fragment holds; no other
 * route is reachable at that path, whose CSP lets pages connect to other https hosts
 * (docs/decisions/0031).
 */
export function reroute({ url }: { url: URL }): string | undefined {
  return url.pathname === '/shl' ? '/shl' : undefined;
}
