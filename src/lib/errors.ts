/**
 * One error family for the whole project. Every layer (crypto, protocol, vault, CLI, relay)
 * declares its codes in a table `CODE -> number`, inside its own number range, and throws a
 * subclass of `CodedError`. A code means one thing everywhere; numbers never change meaning.
 * `tests/errors.test.ts` checks the tables are disjoint and that docs/errors.md lists them all.
 *
 * Messages are for people: never a key, a secret, a record's content or any PHI.
 */
export const ErrorRanges = {
  crypto: [1, 99],
  protocol: [100, 199],
  vault: [200, 299],
  cli: [300, 399],
  relay: [400, 499],
} as const;

export type ErrorLayer = keyof typeof ErrorRanges;

/**
 * A message as people read it: a capital first letter and a closing full stop (issue 13: the app
 * showed "this invite expired"). Applied where messages are made (CodedError, protocol `fail`,
 * sync problems), so every screen and the CLI show the same sentence; codes are untouched.
 */
export function asSentence(message: string): string {
  const m = message.trim();
  if (!m) return m;
  const first = /^[a-z]/.test(m) ? m.charAt(0).toUpperCase() + m.slice(1) : m;
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  /** The code's stable number (see docs/errors.md). */
  readonly number: number;
  constructor(code: C, number: number, message: string) {
    super(asSentence(message));
    this.name = new.target.name;
    this.code = code;
    this.number = number;
  }
}

export const isCodedError = (e: unknown): e is CodedError => e instanceof CodedError;
