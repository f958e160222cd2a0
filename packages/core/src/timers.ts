/** `setTimeout` fires at once for delays above this (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A wait longer than one timer allows, run as a chain of timers. */
class ChainedTimer {
  #handle: NodeJS.Timeout | undefined;
  #left: number;

  constructor(
    ms: number,
    readonly fire: () => void,
    readonly unref: boolean,
  ) {
    this.#left = ms;
    this.#arm();
  }

  #arm = (): void => {
    const chunk = Math.min(this.#left, MAX_TIMER_MS);
    this.#left -= chunk;
    this.#handle = setTimeout(this.#left > 0 ? this.#arm : this.fire, chunk);
    if (this.unref) this.#handle.unref();
  };

  clear(): void {
    clearTimeout(this.#handle);
  }
}

/** A timer handle; null for an infinite wait, which never fires. */
export type Timer = NodeJS.Timeout | ChainedTimer | null;

/** `setTimeout` for any non-negative duration, `Infinity` included (a timer that never fires). */
export function setTimer(fire: () => void, ms: number, unref = false): Timer {
  if (ms === Infinity) return null;
  if (ms > MAX_TIMER_MS) return new ChainedTimer(ms, fire, unref);
  const handle = setTimeout(fire, ms);
  if (unref) handle.unref();
  return handle;
}

export function clearTimer(timer: Timer | undefined): void {
  if (timer instanceof ChainedTimer) timer.clear();
  else if (timer != null) clearTimeout(timer);
}
