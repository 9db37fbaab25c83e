/** Shares the app state and the open profile down the component tree (context, not module singletons). */
import { getContext, setContext } from 'svelte';
import type { AppState } from './app.svelte.ts';
import type { ProfileState } from './profile.svelte.ts';

const APP = Symbol('fhv:app');
const PROFILE = Symbol('fhv:profile');

export const setApp = (app: AppState): AppState => setContext(APP, app);
export const getApp = (): AppState => getContext<AppState>(APP);
/** The profile layout sets a getter: the open profile changes while the layout stays mounted. */
export const setProfile = (get: () => ProfileState | undefined) => setContext(PROFILE, get);
export const getProfile = (): (() => ProfileState | undefined) => getContext(PROFILE);
