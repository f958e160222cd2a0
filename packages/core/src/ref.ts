import type { Cell } from './cell.js';

export interface AskOptions {
  /** Deadline covering enqueue and reply; default `defaults.askTimeoutMs`. */
  timeoutMs?: number;
}

/** @internal The cell behind a ref, for the runtime only (not exported from the package). */
export let cellOf: (ref: ActorRef<any, any>) => Cell;

/** The only handle to an actor. One ref per actor; it stays valid (and the same) across restarts. */
export class ActorRef<Msg = unknown, Reply = unknown> {
  readonly #cell: Cell;

  /** @internal Refs are made by the system; use `spawn`, `refFor` or `refForName`. */
  constructor(cell: Cell) {
    this.#cell = cell;
  }

  static {
    cellOf = (ref) => ref.#cell;
  }

  get address(): string {
    return this.#cell.address;
  }

  get name(): string | null {
    return this.#cell.name;
  }

  /** True until the actor has fully stopped. */
  get alive(): boolean {
    return this.#cell.state !== 'stopped';
  }

  /** Resolves when the actor has fully stopped (its `ActorStopped` event emitted). */
  get terminated(): Promise<void> {
    return this.#cell.terminated;
  }

  /**
   * Resolves when the message is in the mailbox (or was dropped by a `drop_*` policy). Rejects with
   * `PAPYRA_ACTOR_STOPPED` or, under overflow 'fail', `PAPYRA_MAILBOX_FULL` (the message is then a
   * dead letter). Fire-and-forget is fine: only a caller that awaits the promise sees the rejection.
   */
  tell(message: Msg): Promise<void> {
    return this.#cell.tell(message);
  }

  /** Resolves with what `receive` returned; rejects with its error, `PAPYRA_ASK_TIMEOUT` or `PAPYRA_ACTOR_STOPPED`. */
  ask(message: Msg, options?: AskOptions): Promise<Reply> {
    return this.#cell.ask(message, options?.timeoutMs) as Promise<Reply>;
  }

  toString(): string {
    return `ActorRef(${this.#cell.address})`;
  }

  /** Refs inside persisted payloads are written as their address. */
  toJSON(): string {
    return this.#cell.address;
  }
}

