import { ZERO_HASH } from '../protocol/index.ts';

/** Where one author's verified chain stands on this replica. */
export interface ChainHead {
  readonly seq: number;
  readonly head: Uint8Array;
}

export const GENESIS_HEAD: ChainHead = { seq: 0, head: ZERO_HASH };

