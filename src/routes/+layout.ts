// A local-first SPA: nothing is rendered on a server that would need the user's keys.
export const ssr = false;
export const prerender = false;
