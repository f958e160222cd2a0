/**
 * A FIFO ring buffer: O(1) push and shift without the O(n) `Array#shift` of a busy mailbox.
 * It grows by doubling; `trim()` gives the memory of a burst back once the deque is empty again.
 */
export class Deque<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;
  #mask: number;
  readonly #initial: number;

  constructor(initialCapacity = 16) {
    let size = 16;
    while (size < initialCapacity) size *= 2;
    this.#initial = size;
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

  /** Puts an item back in front (it becomes the next `shift()`). */
  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#length += 1;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length -= 1;
    return item;
  }

  /** Removes one occurrence of `item` (O(n)); false if it is not here. */
  remove(item: T): boolean {
    const items = this.#items;
    const mask = this.#mask;
    for (let i = 0; i < this.#length; i++) {
      if (items[(this.#head + i) & mask] !== item) continue;
      for (let j = i; j < this.#length - 1; j++) items[(this.#head + j) & mask] = items[(this.#head + j + 1) & mask];
      this.#length -= 1;
      items[(this.#head + this.#length) & mask] = undefined;
      return true;
    }
    return false;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#length > 0) out.push(this.shift() as T);
    return out;
  }

  /** When empty, drops a buffer grown beyond the initial size, so an idle deque holds little memory. */
  trim(): void {
    if (this.#length !== 0 || this.#items.length === this.#initial) return;
    this.#items = new Array<T | undefined>(this.#initial);
    this.#head = 0;
    this.#mask = this.#initial - 1;
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
