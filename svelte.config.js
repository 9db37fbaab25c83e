import adapter from '@sveltejs/adapter-static';

/** SPA: the relay serves build/ with index.html as fallback; no SSR for vault routes. */
const config = {
  kit: {
    // Hash routes: the path after # never reaches a server (no PHI or invite secret in request URLs).
    router: { type: 'hash' },
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: false }),
    // Hash-based CSP so the inline bootstrap script is allowed and nothing else is. SvelteKit
    // writes it as a <meta> tag, which cannot carry frame-ancestors: server/static.ts sends this
    // same policy (hashes included) as a header with frame-ancestors (docs/decisions/0011).
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:'],
        // 'self' also matches ws:/wss: to this host (CSP3), which is the relay's WebSocket.
        // https: is for the SMART Health Link viewer only (/shl fetches manifests from any host):
        // server/static.ts narrows every other page back to 'self' in its header, and both
        // policies are enforced (docs/decisions/0031).
        'connect-src': ['self', 'https:'],
        'worker-src': ['self'],
        'manifest-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['none'],
        'frame-ancestors': ['none'],
        'form-action': ['self'],
      },
    },
  },
};

export default config;
