/**
 * A FIFO ring buffer: O(1) push and shift without the O(n) `Array#shift` of a busy mailbox.
 * It grows by doubling and never shrinks below its initial size.
 */
export class Deque<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;
  #mask: number;

  constructor(initialCapacity = 16) {
    let size = 16;
    while (size < initialCapacity) size *= 2;
    this.#items = new Array<T | undefined>(size);
    this.#mask = size - 1;
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length += 1;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length -= 1;
    return item;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#length > 0) out.push(this.shift() as T);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const items = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & this.#mask];
    this.#items = items;
    this.#head = 0;
    this.#mask = items.length - 1;
  }
}
