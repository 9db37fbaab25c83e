/**
 * A value read from the vault that Svelte tracks: reading it inside an effect or template
 * subscribes to the vault's observable, and the subscription ends when nothing reads it any
 * more (svelte/reactivity createSubscriber). No $effect mirrors vault state into $state.
 */
import { createSubscriber } from 'svelte/reactivity';

export class Subscribed<T> {
  readonly #track: () => void;
  readonly #get: () => T;

  /** `start` subscribes and returns the unsubscribe; a call back during `start` itself is ignored. */
  constructor(start: (notify: () => void) => () => void, get: () => T) {
    this.#get = get;
    this.#track = createSubscriber((update) => {
      let starting = true;
      const stop = start(() => {
        if (!starting) update();
      });
      starting = false;
      return stop;
    });
  }

  read(): T {
    this.#track();
    return this.#get();
  }
}
