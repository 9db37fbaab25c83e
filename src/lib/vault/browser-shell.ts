/**
 * What the app shell needs before the vault code has loaded (state/app.svelte.ts loads that with a
 * dynamic import): the device store, to tell a device with nobody set up (onboarding) from one
 * with a person, and the error text. Nothing here pulls in Yjs, the provider or the schemas.
 */
export { indexeddbDeviceStore } from './device-names.ts';
export { describeError } from './errors.ts';
