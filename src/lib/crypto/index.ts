export * from './bytes.ts';
export * from './errors.ts';
export * from './hash.ts';
export * from './keys.ts';
export * from './random.ts';
export * from './secretbox.ts';
export * from './x25519.ts';
export * from './ed25519.ts';
