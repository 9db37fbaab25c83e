/** Transaction origins the relay tells apart (Hocuspocus's Redis extension applies other instances' messages with `{ source: 'redis' }`). */
export function isRemoteOrigin(origin: unknown): boolean {
  return typeof origin === 'object' && origin !== null && (origin as { source?: unknown }).source === 'redis';
}
