/**
 * The floor for actor messaging: a queue per actor drained on a microtask, one message at a time,
 * with no supervision, no bounds and no persistence.
 */
export class BareActor<M> {
  #queue: M[] = [];
  #head = 0;
  #scheduled = false;

  constructor(private readonly handle: (message: M) => void | Promise<void>) {}

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
    }
    this.#queue = [];
    this.#head = 0;
    this.#scheduled = false;
  }
}
