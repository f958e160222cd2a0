/** One run shared by concurrent callers: a second caller joins the run in flight instead of starting another. */
export class SingleFlight<T> {
  #inFlight: Promise<T> | null = null;

  run(fn: () => Promise<T>): Promise<T> {
    this.#inFlight ??= fn().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }
}

export type Deadline<T> = { done: true; value: T } | { done: false };

/**
 * Waits for `promise` at most `ms`; the timer never keeps the process alive. When the timer fires,
 * I/O that completed meanwhile is still given its turn (the poll phase runs before setImmediate),
 * so a busy event loop does not turn an answer that arrived in time into a timeout.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<Deadline<T>> {
  if (!Number.isFinite(ms)) return { done: true, value: await promise };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Deadline<T>>((resolve) => {
    timer = setTimeout(() => setImmediate(() => resolve({ done: false })), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
