import { backendClosedError } from '../errors.js';

/**
 * The open/closed state of a backend. `assertOpen()` comes first in every method, before any
 * argument is looked at, so a closed backend answers `PAPYRA_BACKEND_CLOSED` whatever it is given.
 */
export class ClosedGuard {
  #closed = false;
  readonly #backend: string;

  constructor(backend: string) {
    this.#backend = backend;
  }

  get closed(): boolean {
    return this.#closed;
  }

  assertOpen(): void {
    if (this.#closed) throw backendClosedError(this.#backend);
  }

  /** Marks the backend closed; true only the first time, so `close()` does its work once. */
  markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    return true;
  }
}
