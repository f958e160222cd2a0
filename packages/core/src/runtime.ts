import { inspect } from 'node:util';
import {
  createAudit,
  createDeadLetter,
  createEvent,
  type Logger,
  type PersistedAudit,
  type PersistedRecord,
  type PersistenceBackend,
} from '@papyra/persistence-contract';
import { Actor, Terminated, type ActorFactory } from './actor.js';
import { Cell, type CellSettings } from './cell.js';
import { invalidArgument, nameTakenError, systemNotRunningError } from './errors.js';
import type { ActorRef } from './ref.js';
import type { ActorSystem, SpawnOptions } from './system.js';
import type { Clock, Hooks, OverflowPolicy } from './types.js';
import type { PersistenceWriter } from './writer.js';

export interface RuntimeSettings {
  askTimeoutMs: number;
  mailboxCapacity: number;
  overflow: OverflowPolicy;
  maxRestarts: number;
  withinMs: number;
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

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['backpressure', 'drop_newest', 'drop_oldest', 'fail'];
/** Cell wake-ups run as microtasks, but after this many in a row one goes through setImmediate so timers and I/O are never starved. */
const MICROTASK_BUDGET = 10_000;
const RESOLVED = Promise.resolve();
const SAMPLE_EVERY = 16;

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
  #budget = MICROTASK_BUDGET;
  #untilSample = 1;

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

  schedule(run: () => void): void {
    if (this.#budget > 0) {
      this.#budget -= 1;
      // A promise job rather than queueMicrotask, which wraps every callback in an async resource.
      RESOLVED.then(run);
    } else {
      this.yieldTo(run);
    }
  }

  yieldTo(run: () => void): void {
    setImmediate(this.#refill, run);
  }

  #refill = (run: () => void): void => {
    this.#budget = MICROTASK_BUDGET;
    run();
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
    const maxRestarts = supervision.maxRestarts ?? this.settings.maxRestarts;
    const withinMs = supervision.withinMs ?? this.settings.withinMs;
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw invalidArgument('supervision.maxRestarts must be a non-negative integer.');
    if (!(withinMs > 0)) throw invalidArgument('supervision.withinMs must be positive.');
    return { capacity, overflow, strategy, maxRestarts, withinMs, backoff: supervision.backoff };
  }

  watch(watcher: Cell, target: Cell): void {
    if (watcher === target || watcher.state === 'stopped') return;
    // `watching` holds a target until its Terminated is delivered: a second watch adds no second notice.
    const watching = (watcher.watching ??= new Set());
    if (watching.has(target)) return;
    watching.add(target);
    if (target.state === 'stopped') watcher.enqueueSystem(new Terminated(target.ref, target.address));
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
      for (const watcher of watchers) watcher.enqueueSystem(new Terminated(cell.ref, cell.address));
    }
  }

  crashed(cell: Cell, error: unknown): void {
    this.counters.crashes += 1;
    this.log.warn({ err: error, address: cell.address, name: cell.name }, 'actor crashed');
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
      payload: message,
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
        listener(record);
      } catch (err) {
        this.log.error({ err }, 'record listener threw');
      }
    }
  }

  /** Hooks may be sync or async; whatever they throw or reject with is logged, never propagated. */
  callHook<K extends keyof Hooks>(name: K, argument: Parameters<NonNullable<Hooks[K]>>[0]): void {
    const hook = this.hooks[name] as ((arg: unknown) => unknown) | undefined;
    if (hook === undefined) return;
    try {
      const result = hook.call(this.hooks, argument);
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        Promise.resolve(result).catch((err: unknown) => this.log.error({ err, hook: name }, 'hook failed'));
      }
    } catch (err) {
      this.log.error({ err, hook: name }, 'hook failed');
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

/** Python Papyra's form: "<ErrorName>: <message>". */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : inspect(error, { depth: 2, breakLength: Infinity });
}

/** A message's `type` field when it is a string (discriminated unions), else its class name or `typeof`. */
export function messageTypeOf(message: unknown): string {
  if (message === null) return 'null';
  if (typeof message !== 'object') return typeof message;
  const type = (message as { type?: unknown }).type;
  if (typeof type === 'string') return type;
  const ctor = (message as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
}
