import type { Cell } from './cell.js';

export interface AskOptions {
  /** Deadline covering enqueue and reply; default `defaults.askTimeoutMs`. Any finite length (long ones are fine). */
  timeoutMs?: number;
  /** Aborting rejects the ask with `PAPYRA_ABORTED`; if the message was not delivered yet it leaves the mailbox as a dead letter. */
  signal?: AbortSignal;
}

/**
 * Bounds on a `tell` that may wait for room (overflow 'backpressure'). Without them it waits until
 * there is room or the actor stops.
 */
export interface TellOptions {
  /** Give up waiting for room after this long: `PAPYRA_TELL_TIMEOUT`, the message becomes a dead letter. `Infinity` allowed. */
  timeoutMs?: number;
  /** Give up waiting for room when aborted: `PAPYRA_ABORTED`, the message becomes a dead letter. */
  signal?: AbortSignal;
}

/** @internal The cell behind a ref, for the runtime only (not exported from the package). */
export let cellOf: (ref: ActorRef<any, any>) => Cell;
/** @internal Refs are made by the runtime only. */
export let newRef: (cell: Cell) => ActorRef<any, any>;

/** The only handle to an actor. One ref per actor; it stays valid (and the same) across restarts. */
export class ActorRef<Msg = unknown, Reply = unknown> {
  readonly #cell: Cell;

  /** Refs are made by the system; use `spawn`, `refFor` or `refForName`. */
  private constructor(cell: Cell) {
    this.#cell = cell;
  }

  static {
    cellOf = (ref) => ref.#cell;
    newRef = (cell) => new ActorRef(cell);
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
   * `PAPYRA_ACTOR_STOPPED`, with `PAPYRA_MAILBOX_FULL` under overflow 'fail' or when the
   * backpressure waiters are at their bound, or with `PAPYRA_TELL_TIMEOUT` / `PAPYRA_ABORTED` per
   * `options` (the message is then a dead letter). Fire-and-forget is fine: only a caller that
   * awaits the promise sees the rejection.
   */
  tell(message: Msg, options?: TellOptions): Promise<void> {
    return this.#cell.tell(message, options);
  }

  /**
   * Resolves with what `receive` returned; rejects with its error, `PAPYRA_ASK_TIMEOUT`,
   * `PAPYRA_ABORTED` or `PAPYRA_ACTOR_STOPPED`.
   */
  ask(message: Msg, options?: AskOptions): Promise<Reply> {
    return this.#cell.ask(message, options?.timeoutMs, options?.signal) as Promise<Reply>;
  }

  toString(): string {
    return `ActorRef(${this.#cell.address})`;
  }

  /** Refs inside persisted payloads are written as their address. */
  toJSON(): string {
    return this.#cell.address;
  }
}
