import { ProtocolErrors, type Failure } from '../src/lib/protocol/index.ts';

/**
 * Thrown from Hocuspocus hooks: Hocuspocus closes the connection with `code` and `reason`.
 * The reason is the stable error code, never record content.
 */
export class RelayRefusal extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(failure: Pick<Failure, 'code' | 'message'>) {
    super(`${failure.code}: ${failure.message}`);
    this.code = 4000 + (ProtocolErrors[failure.code] % 1000);
    this.reason = failure.code;
  }
}
