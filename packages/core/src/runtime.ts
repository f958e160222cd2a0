import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import {
  toJsonValue,
  createAudit,
  createDeadLetter,
  createEvent,
  type Logger,
  type PersistedAudit,
  type JsonValue,
  type PersistedRecord,
  type PersistenceBackend,
} from '@papyra/persistence-contract';
import { Actor, type ActorFactory } from './actor.js';
import { Cell, type CellSettings } from './cell.js';
import { checkCount, checkDuration, invalidArgument, nameTakenError, systemNotRunningError } from './errors.js';
import { cellOf, type ActorRef } from './ref.js';
import type { ActorSystem, SpawnOptions } from './system.js';
import type { BackoffOptions, Clock, Hooks, OverflowPolicy } from './types.js';
import type { PersistenceWriter } from './writer.js';

export interface RuntimeSettings {
  askTimeoutMs: number;
  mailboxCapacity: number;
  overflow: OverflowPolicy;
  maxRestarts: number;
  withinMs: number;
  backoff: BackoffOptions | undefined;
}

export interface RuntimeCounters {
  actorsSpawned: number;
  actorsStopped: number;
  messagesProcessed: number;
  /** Turns whose duration was measured (one in 16; see `processingTimeMs` in the snapshot). */
  sampledTurns: number;
  /** Monotonic time spent in the measured turns, from `receive` called to its result settled. */
  sampledProcessingMs: number;
  /** Longest measured turn. */
  maxProcessingMs: number;
  crashes: number;
  restarts: number;
  deadLetters: number;
  askTimeouts: number;
}

export type SystemState = 'new' | 'starting' | 'running' | 'closing' | 'closed';

export type RecordListener = (record: PersistedRecord) => void;

export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['backpressure', 'drop_newest', 'drop_oldest', 'fail'];
/**
 * Fairness: turns (sync or async, of every actor together) and wake-ups run as promise jobs, which
 * would starve timers and I/O; after SLICE_TURNS of them, or SLICE_MS (checked every 32), the
 * runtime continues from setImmediate, so the macrotask queue runs at least once per slice.
 */
const SLICE_TURNS = 2048;
const SLICE_MS = 10;
const RESOLVED = Promise.resolve();
const SAMPLE_EVERY = 16;
/** Backpressured senders allowed per mailbox slot unless `mailbox.maxWaiting` says otherwise. */
const DEFAULT_WAITING_PER_SLOT = 16;

/** The engine behind an ActorSystem: registries, record emission, scheduling. Not exported. */
export class Runtime {
  readonly cells = new Map<number, Cell>();
  readonly names = new Map<string, Cell>();
  readonly roots = new Set<Cell>();
  readonly listeners = new Set<RecordListener>();
  readonly counters: RuntimeCounters = {
    actorsSpawned: 0,
    actorsStopped: 0,
    messagesProcessed: 0,
    sampledTurns: 0,
    sampledProcessingMs: 0,
    maxProcessingMs: 0,
    crashes: 0,
    restarts: 0,
    deadLetters: 0,
    askTimeouts: 0,
  };
  state: SystemState = 'new';
  #nextId = 1;
  #untilSample = 1;
  #sliceOpen = false;
  #sliceLeft = 0;
  #sliceEnds = 0;
  #yielding = false;
  #deferred: (() => void)[] = [];
  /** The actor that last read `context.system` in the current synchronous run (see closingFrom). */
  #caller: Cell | null = null;

  constructor(
    readonly system: ActorSystem,
    readonly systemId: string,
    readonly settings: RuntimeSettings,
    readonly clock: Clock,
    readonly log: Logger,
    readonly hooks: Hooks,
    readonly persistence: PersistenceBackend | undefined,
    readonly writer: PersistenceWriter | null,
  ) {}

  // ---- scheduling ----------------------------------------------------------------------------

  /**
   * Runs `run` soon: as a promise job within the slice, else after the macrotask queue had its turn.
   * A wake-up is not charged itself: the turns it leads to are.
   */
  schedule(run: () => void): void {
    // A promise job rather than queueMicrotask, which wraps every callback in an async resource.
    if (this.#yielding) this.#deferred.push(run);
    else RESOLVED.then(run);
  }

  /**
   * Charges one turn to the current slice. False once the slice is spent: the caller must not run
   * its turn now but hand its continuation to `defer`. A slice opens with the first turn after a
   * macrotask boundary and arms one setImmediate, which closes it: so a slice is the promise-job
   * work between two boundaries, and an idle spell never leaves a stale one behind.
   */
  take(): boolean {
    if (this.#yielding) return false;
    if (!this.#sliceOpen) {
      this.#sliceOpen = true;
      this.#sliceLeft = SLICE_TURNS;
      this.#sliceEnds = performance.now() + SLICE_MS;
      setImmediate(this.#resume);
    }
    const left = --this.#sliceLeft;
    if (left > 0 && ((left & 31) !== 0 || performance.now() < this.#sliceEnds)) return true;
    this.#yielding = true;
    return false;
  }

  /** Continues `run` after the macrotask queue (timers, I/O) has run. */
  defer(run: () => void): void {
    this.#deferred.push(run);
  }

  #resume = (): void => {
    this.#sliceOpen = false;
    this.#yielding = false;
    const runs = this.#deferred;
    this.#deferred = [];
    // In order; whatever finds the new slice spent again defers itself behind the rest.
    for (const run of runs) run();
  };

  /**
   * Whether the next turn is timed. Reading a clock twice per message would cost more than the rest
   * of a small turn, so one turn in SAMPLE_EVERY is timed and the totals are extrapolated.
   */
  sampleTurn(): boolean {
    if (--this.#untilSample > 0) return false;
    this.#untilSample = SAMPLE_EVERY;
    return true;
  }

  processed(startedAt: number): void {
    this.counters.messagesProcessed += 1;
    this.timed(startedAt);
  }

  /** Adds a sampled turn's duration (also of turns that crashed: they took time too). */
  timed(startedAt: number): void {
    if (startedAt < 0) return;
    const c = this.counters;
    const ms = this.clock.monotonic() - startedAt;
    c.sampledTurns += 1;
    c.sampledProcessingMs += ms;
    if (ms > c.maxProcessingMs) c.maxProcessingMs = ms;
  }

  // ---- actors --------------------------------------------------------------------------------

  spawn(actor: ActorFactory<Actor<any, any>>, options: SpawnOptions, parent: Cell | null): ActorRef<any, any> {
    if (this.state !== 'running') throw systemNotRunningError(this.systemId, this.state);
    const factory = toFactory(actor);
    const name = options.name ?? null;
    if (name !== null && (typeof name !== 'string' || name.length === 0)) throw invalidArgument('An actor name must be a non-empty string.', { name });
    if (name !== null && this.names.has(name)) throw nameTakenError(name);
    if (parent !== null && !parent.accepting) throw invalidArgument(`Cannot spawn a child of ${parent.address}: it is stopping.`, { parent: parent.address });
    const settings = this.#cellSettings(options, name);
    const id = this.#nextId++;
    const cell = new Cell(this, id, `${this.systemId}:${id}`, name, parent, factory, settings);
    this.cells.set(id, cell);
    if (name !== null) this.names.set(name, cell);
    if (parent === null) this.roots.add(cell);
    else (parent.children ??= new Set()).add(cell);
    this.counters.actorsSpawned += 1;
    return cell.ref;
  }

  #cellSettings(options: SpawnOptions, name: string | null): CellSettings {
    const capacity = options.mailbox?.capacity ?? this.settings.mailboxCapacity;
    const overflow = options.mailbox?.overflow ?? this.settings.overflow;
    if (!Number.isInteger(capacity) || capacity < 1) throw invalidArgument(`mailbox.capacity must be a positive integer, got ${String(capacity)}.`);
    if (!OVERFLOW_POLICIES.includes(overflow)) throw invalidArgument(`mailbox.overflow must be one of ${OVERFLOW_POLICIES.join(', ')}.`, { overflow });
    const supervision = options.supervision ?? {};
    const strategy = supervision.strategy ?? (name !== null ? 'restart' : 'stop');
    if (!['stop', 'restart', 'escalate'].includes(strategy)) throw invalidArgument(`supervision.strategy must be stop, restart or escalate.`, { strategy });
    const arg = 'PAPYRA_INVALID_ARGUMENT';
    const maxRestarts = checkCount('supervision.maxRestarts', supervision.maxRestarts ?? this.settings.maxRestarts, 0, arg);
    const withinMs = checkDuration('supervision.withinMs', supervision.withinMs ?? this.settings.withinMs, { unlimited: true, code: arg });
    const backoffOption = supervision.backoff ?? this.settings.backoff;
    const backoff = backoffOption === undefined ? undefined : checkBackoff(backoffOption, arg);
    const maxWaiting = checkCount('mailbox.maxWaiting', options.mailbox?.maxWaiting ?? capacity * DEFAULT_WAITING_PER_SLOT, 0, 'PAPYRA_INVALID_ARGUMENT');
    return { capacity, maxWaiting, overflow, strategy, maxRestarts, withinMs, backoff };
  }

  /** The cell behind a ref of this system; a ref of another system is an invalid argument here. */
  own(ref: ActorRef<any, any>, what: string): Cell {
    const cell = cellOf(ref);
    if (cell.rt !== this) throw invalidArgument(`Cannot ${what} ${cell.address}: it belongs to another actor system.`, { address: cell.address });
    return cell;
  }

  watch(watcher: Cell, target: Cell): void {
    if (watcher === target || watcher.state === 'stopped') return;
    // `watching` holds a target until its Terminated is delivered: a second watch adds no second notice.
    const watching = (watcher.watching ??= new Set());
    if (watching.has(target)) return;
    watching.add(target);
    if (target.state === 'stopped') watcher.notifyTerminated(target);
    else (target.watchers ??= new Set()).add(watcher);
  }

  unwatch(watcher: Cell, target: Cell): void {
    target.watchers?.delete(watcher);
    watcher.watching?.delete(target);
  }

  /** The cell has fully stopped: release it from every registry, tell its watchers, record it. */
  ended(cell: Cell): void {
    this.cells.delete(cell.id);
    if (cell.name !== null && this.names.get(cell.name) === cell) this.names.delete(cell.name);
    if (cell.parent === null) this.roots.delete(cell);
    else cell.parent.children?.delete(cell);
    if (cell.watching !== null) for (const target of cell.watching) target.watchers?.delete(cell);
    cell.watching = null;
    this.counters.actorsStopped += 1;
    this.lifecycle(cell, 'ActorStopped', { reason: cell.stopReason });
    const watchers = cell.watchers;
    cell.watchers = null;
    if (watchers !== null) {
      for (const watcher of watchers) watcher.notifyTerminated(cell);
    }
  }

  crashed(cell: Cell, error: unknown): void {
    this.counters.crashes += 1;
    this.report('warn', { err: error, address: cell.address, name: cell.name }, 'actor crashed');
    const text = describeError(error);
    this.lifecycle(cell, 'ActorCrashed', { error: text, reason: text });
    this.callHook('onFailure', { ref: cell.ref, address: cell.address, name: cell.name, error });
  }

  restarted(cell: Cell): void {
    this.counters.restarts += 1;
    this.lifecycle(cell, 'ActorRestarted', { reason: 'actor restarted' });
  }

  // ---- records -------------------------------------------------------------------------------

  lifecycle(cell: Cell, eventType: string, payload: Record<string, unknown>): void {
    if (this.writer === null && this.hooks.onEvent === undefined && this.listeners.size === 0) return;
    const event = createEvent({ systemId: this.systemId, actorAddress: cell.address, eventType, payload, timestamp: this.clock.now() });
    this.writer?.enqueue(event);
    this.callHook('onEvent', event);
    this.#notify(event);
  }

  deadLetter(target: string | null, message: unknown, expectsReply: boolean, reason: string): void {
    this.counters.deadLetters += 1;
    if (this.writer === null && this.hooks.onDeadLetter === undefined && this.listeners.size === 0) return;
    const record = createDeadLetter({
      systemId: this.systemId,
      target,
      messageType: messageTypeOf(message),
      expectsReply,
      payload: safePayload(message),
      reason,
      timestamp: this.clock.now(),
    });
    this.writer?.enqueue(record);
    this.callHook('onDeadLetter', record);
    this.#notify(record);
  }

  audit(): PersistedAudit {
    let alive = 0;
    let stopping = 0;
    let restarting = 0;
    for (const cell of this.cells.values()) {
      if (cell.state === 'stopping') stopping += 1;
      else alive += 1;
      if (cell.restarting) restarting += 1;
    }
    const orphans: string[] = [];
    const dead: string[] = [];
    for (const [name, cell] of this.names) {
      if (this.cells.get(cell.id) !== cell) orphans.push(name);
      else if (cell.state === 'stopped') dead.push(name);
    }
    const audit = createAudit({
      systemId: this.systemId,
      timestamp: this.clock.now(),
      totalActors: this.cells.size,
      aliveActors: alive,
      stoppingActors: stopping,
      restartingActors: restarting,
      registrySize: this.names.size,
      registryOrphans: orphans,
      registryDead: dead,
      deadLettersCount: this.counters.deadLetters,
    });
    this.writer?.enqueue(audit);
    this.callHook('onAudit', audit);
    this.#notify(audit);
    return audit;
  }

  #notify(record: PersistedRecord): void {
    for (const listener of this.listeners) {
      try {
        const result: unknown = listener(record);
        if (isThenable(result)) Promise.resolve(result).catch((err: unknown) => this.report('error', { err }, 'record listener failed'));
      } catch (err) {
        this.report('error', { err }, 'record listener failed');
      }
    }
  }

  /** Logs what may carry a user's value (an error of theirs): a logger choking on it must not break the runtime. */
  report(level: 'warn' | 'error', obj: Record<string, unknown>, msg: string): void {
    try {
      this.log[level](obj, msg);
    } catch {
      try {
        this.log[level]({ ...obj, err: describeError(obj['err']) }, msg);
      } catch {
        // Nothing left to tell: the logger itself is broken.
      }
    }
  }

  /** Notes the actor reading `context.system` until the current synchronous run ends (see `closingFrom`). */
  noteCaller(cell: Cell): void {
    if (this.#caller === null) RESOLVED.then(this.#forgetCaller);
    this.#caller = cell;
  }

  #forgetCaller = (): void => {
    this.#caller = null;
  };

  /** The actor calling `close()` through its `context.system`, if any: close() must not wait for its turn. */
  closingFrom(): Cell | null {
    return this.#caller;
  }

  /** Hooks may be sync or async; whatever they throw or reject with is logged, never propagated. */
  callHook<K extends keyof Hooks>(name: K, argument: Parameters<NonNullable<Hooks[K]>>[0]): void {
    const hook = this.hooks[name] as ((arg: unknown) => unknown) | undefined;
    if (hook === undefined) return;
    try {
      const result = hook.call(this.hooks, argument);
      if (isThenable(result)) Promise.resolve(result).catch((err: unknown) => this.report('error', { err, hook: name }, 'hook failed'));
    } catch (err) {
      this.report('error', { err, hook: name }, 'hook failed');
    }
  }
}

function toFactory(actor: ActorFactory<Actor<any, any>>): () => Actor<any, any> {
  if (typeof actor !== 'function') throw invalidArgument('spawn() takes an Actor subclass or a function returning an Actor instance.');
  const make = actor.prototype instanceof Actor ? () => new (actor as new () => Actor<any, any>)() : (actor as () => Actor<any, any>);
  return () => {
    const instance = make();
    if (!(instance instanceof Actor)) throw invalidArgument('The actor factory did not return an Actor instance.');
    return instance;
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

function checkBackoff(backoff: unknown, code: 'PAPYRA_INVALID_ARGUMENT'): BackoffOptions {
  if (backoff === null || typeof backoff !== 'object') throw invalidArgument('supervision.backoff must be an object { minMs, maxMs, factor? }.');
  const { minMs, maxMs, factor = 2 } = backoff as BackoffOptions;
  checkDuration('supervision.backoff.minMs', minMs, { zero: true, code });
  checkDuration('supervision.backoff.maxMs', maxMs, { zero: true, code });
  if (maxMs < minMs) throw invalidArgument('supervision.backoff.maxMs must be ≥ minMs.', { minMs, maxMs });
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1)
    throw invalidArgument('supervision.backoff.factor must be a finite number ≥ 1.', { factor });
  return { minMs, maxMs, factor };
}

/**
 * A payload as JSON. The contract's converter already turns what JSON cannot hold into strings;
 * what still throws (a getter that throws, a revoked Proxy, nesting deeper than the stack) becomes
 * a descriptive string here: encoding never throws (SPEC §2.2), so no stop or send path can break.
 */
export function safePayload(value: unknown): JsonValue {
  try {
    return toJsonValue(value);
  } catch (err) {
    return `[unencodable ${typeof value}: ${describeError(err)}]`;
  }
}

/** Python Papyra's form: "<ErrorName>: <message>". Never throws, whatever `error` is. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return typeof error === 'string' ? error : inspect(error, { depth: 2, breakLength: Infinity });
  } catch {
    return `[undescribable ${typeof error}]`;
  }
}

/** A message's `type` field when it is a string (discriminated unions), else its class name or `typeof`. */
export function messageTypeOf(message: unknown): string {
  if (message === null) return 'null';
  if (typeof message !== 'object') return typeof message;
  try {
    const type = (message as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    const ctor = (message as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
  } catch {
    return 'unknown';
  }
}
