/** snappyjs ships no types: the two functions the profile scan uses (tests/helpers/profile-scan.ts). */
declare module 'snappyjs' {
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
}
