/**
 * Runs async tasks one after another, in call order: a task starts when the one before it has
 * settled, whether it resolved or rejected. File backends put every rewrite of their files
 * (recovery, compaction) through one, so two rewrites never read one version of a file and
 * replace another.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => {});
    return run;
  }
}
