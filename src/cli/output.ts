/** Standard output: one line per result, JSON for anything structured (so scripts can parse it). */
export function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

/** A warning for the person at the terminal: one JSON line on stderr, never record content. */
export function warn(message: string): void {
  process.stderr.write(`${JSON.stringify({ warning: message })}\n`);
}
