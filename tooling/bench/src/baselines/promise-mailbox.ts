/** How often the bare mailboxes let the macrotask queue run, in turns of all of them together. */
export interface Slice {
  every: number;
  turns: number;
}

/**
 * The floor for actor messaging: a queue per actor drained on a microtask, one message at a time,
 * with no supervision, no bounds and no persistence. Like the Papyra runtime it yields to the
 * macrotask queue (a setImmediate) every `slice.every` turns counted across all actors sharing
 * `slice`, so neither arm is measured starving timers and I/O.
 */
export class BareActor<M> {
  #queue: M[] = [];
  #head = 0;
  #scheduled = false;

  constructor(
    private readonly handle: (message: M) => void | Promise<void>,
    private readonly slice: Slice,
  ) {}

  tell(message: M): Promise<void> {
    this.#queue.push(message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      void Promise.resolve().then(() => this.#drain());
    }
    return Promise.resolve();
  }

  async #drain(): Promise<void> {
    while (this.#head < this.#queue.length) {
      const message = this.#queue[this.#head++]!;
      await this.handle(message);
      if (++this.slice.turns % this.slice.every === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.#queue = [];
    this.#head = 0;
    this.#scheduled = false;
  }
}
