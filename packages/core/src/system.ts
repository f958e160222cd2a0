import { performance } from 'node:perf_hooks';
import {
  PapyraError,
  runStartupCheck,
  silentLogger,
  type PersistedAudit,
  type PersistenceBackend,
  type StartupCheckResult,
} from '@papyra/persistence-contract';
import type { Actor, ActorFactory, RefOf } from './actor.js';
import { actorNotFoundError, checkCount, checkDuration, invalidArgument, systemNotRunningError } from './errors.js';
import type { ActorRef } from './ref.js';
import { OVERFLOW_POLICIES, Runtime, type RecordListener, type RuntimeCounters, type SystemState } from './runtime.js';
import { clearTimer, setTimer, type Timer } from './timers.js';
import type { ActorSystemOptions, Clock, MailboxOptions, StartupOptions, SupervisionOptions } from './types.js';
import { PersistenceWriter, type WriterCounters } from './writer.js';

export interface SpawnOptions {
  /** Unique among live actors; `refForName` finds it. Named actors default to the `restart` strategy. */
  name?: string;
  mailbox?: MailboxOptions;
  supervision?: SupervisionOptions;
  /** Spawn as a child of this actor (same as its `context.spawnChild`). */
  parent?: ActorRef<any, any>;
}

export interface RuntimeMetricsSnapshot extends RuntimeCounters {
  /** Actors spawned and not yet fully stopped (including restarting and stopping ones). */
  actorsAlive: number;
  actorsStopping: number;
  actorsRestarting: number;
  /** Messages waiting in every mailbox, backpressured senders included. */
  mailboxDepth: number;
  /**
   * The fullest mailbox: max over live actors of depth / capacity; 0 with no actors. Not clamped:
   * above 1 means backpressured senders are waiting for room (at most 2, see the README on memory).
   */
  mailboxMaxFill: number;
  /** Estimated total time in turns: the measured sample's mean times `messagesProcessed`. */
  processingTimeMs: number;
  /** Mean duration of the measured turns. */
  meanProcessingMs: number;
  /**
   * Null without a persistence backend. `pending`: records queued or being written;
   * `oldestPendingAgeMs`: age of the oldest of them (monotonic ms), null when none is pending.
   */
  persistence: (WriterCounters & { pending: number; oldestPendingAgeMs: number | null }) | null;
}

/** Live counters of one system, for dashboards and `@papyra/opentelemetry`. */
export class RuntimeMetrics {
  readonly #rt: Runtime;
  readonly #writer: PersistenceWriter | null;

  /** @internal */
  constructor(rt: Runtime, writer: PersistenceWriter | null) {
    this.#rt = rt;
    this.#writer = writer;
  }

  snapshot(): RuntimeMetricsSnapshot {
    let stopping = 0;
    let restarting = 0;
    let depth = 0;
    let maxFill = 0;
    for (const cell of this.#rt.cells.values()) {
      if (cell.state === 'stopping') stopping += 1;
      if (cell.restarting) restarting += 1;
      const cellDepth = cell.mailboxDepth;
      depth += cellDepth;
      const fill = cellDepth / cell.settings.capacity;
      if (fill > maxFill) maxFill = fill;
    }
    const writer = this.#writer;
    const counters = this.#rt.counters;
    const mean = counters.sampledTurns === 0 ? 0 : counters.sampledProcessingMs / counters.sampledTurns;
    return {
      ...counters,
      processingTimeMs: mean * counters.messagesProcessed,
      meanProcessingMs: mean,
      actorsAlive: this.#rt.cells.size,
      actorsStopping: stopping,
      actorsRestarting: restarting,
      mailboxDepth: depth,
      mailboxMaxFill: maxFill,
      persistence: writer === null ? null : { ...writer.counters, pending: writer.pending, oldestPendingAgeMs: writer.oldestPendingAgeMs },
    };
  }
}

const DEFAULTS = {
  askTimeoutMs: 5_000,
  mailboxCapacity: 1024,
  overflow: 'backpressure',
  closeTimeoutMs: 10_000,
  maxRestarts: 3,
  withinMs: 60_000,
  queueCapacity: 10_000,
  batchSize: 1024,
  writeTimeoutMs: 5_000,
  maxHungWrites: 10_000,
  flushTimeoutMs: 5_000,
} as const;

/**
 * An actor system: spawns actors, supervises them, and records every lifecycle fact, dead letter
 * and audit to an optional persistence backend, best effort and off the actors' turns.
 */
export class ActorSystem implements AsyncDisposable {
  readonly systemId: string;
  readonly metrics: RuntimeMetrics;
  readonly #rt: Runtime;
  readonly #persistence: PersistenceBackend | undefined;
  readonly #writer: PersistenceWriter | null;
  readonly #startup: StartupOptions | undefined;
  readonly #closeTimeoutMs: number;
  readonly #flushTimeoutMs: number;
  readonly #auditIntervalMs: number | undefined;
  #starting: Promise<StartupCheckResult | null> | null = null;
  #startupCheck: StartupCheckResult | null = null;
  #closing: Promise<void> | null = null;
  #auditTimer: Timer = null;

  constructor(options: ActorSystemOptions = {}) {
    const defaults = options.defaults ?? {};
    const systemId = options.systemId ?? 'local';
    if (typeof systemId !== 'string' || systemId.length === 0 || systemId.includes(':')) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'systemId must be a non-empty string without ":".', { details: { systemId } });
    }
    if (options.startup !== undefined && options.persistence === undefined) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'A startup check needs a persistence backend to check.');
    }
    const auditIntervalMs = defaults.auditIntervalMs === undefined ? undefined : checkDuration('defaults.auditIntervalMs', defaults.auditIntervalMs);
    const overflow = defaults.overflow ?? DEFAULTS.overflow;
    if (!OVERFLOW_POLICIES.includes(overflow)) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', `defaults.overflow must be one of ${OVERFLOW_POLICIES.join(', ')}.`, { details: { overflow } });
    }
    const clock: Clock = {
      now: options.clock?.now ?? Date.now,
      monotonic: options.clock?.monotonic ?? (() => performance.now()),
    };
    const logger = (options.logger ?? silentLogger).child({ component: 'actor-system', systemId });
    const writerOptions = defaults.persistence ?? {};
    this.#writer =
      options.persistence === undefined
        ? null
        : new PersistenceWriter(
            options.persistence,
            {
              queueCapacity: checkCount('defaults.persistence.queueCapacity', writerOptions.queueCapacity ?? DEFAULTS.queueCapacity, 1),
              batchSize: checkCount('defaults.persistence.batchSize', writerOptions.batchSize ?? DEFAULTS.batchSize, 1),
              writeTimeoutMs: checkDuration('defaults.persistence.writeTimeoutMs', writerOptions.writeTimeoutMs ?? DEFAULTS.writeTimeoutMs, {
                unlimited: true,
              }),
              maxHungWrites: checkCount('defaults.persistence.maxHungWrites', writerOptions.maxHungWrites ?? DEFAULTS.maxHungWrites, 1),
            },
            logger,
            clock.monotonic,
          );
    this.systemId = systemId;
    this.#persistence = options.persistence;
    this.#startup = options.startup;
    this.#closeTimeoutMs = checkDuration('defaults.closeTimeoutMs', defaults.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs, { zero: true, unlimited: true });
    this.#flushTimeoutMs = checkDuration('defaults.persistence.flushTimeoutMs', writerOptions.flushTimeoutMs ?? DEFAULTS.flushTimeoutMs, {
      zero: true,
      unlimited: true,
    });
    this.#auditIntervalMs = auditIntervalMs;
    this.#rt = new Runtime(
      this,
      systemId,
      {
        askTimeoutMs: checkDuration('defaults.askTimeoutMs', defaults.askTimeoutMs ?? DEFAULTS.askTimeoutMs),
        mailboxCapacity: checkCount('defaults.mailboxCapacity', defaults.mailboxCapacity ?? DEFAULTS.mailboxCapacity, 1),
        overflow,
        maxRestarts: checkCount('defaults.supervision.maxRestarts', defaults.supervision?.maxRestarts ?? DEFAULTS.maxRestarts, 0),
        withinMs: checkDuration('defaults.supervision.withinMs', defaults.supervision?.withinMs ?? DEFAULTS.withinMs, { unlimited: true }),
        backoff: defaults.supervision?.backoff,
      },
      clock,
      logger,
      options.hooks ?? {},
      options.persistence,
      this.#writer,
    );
    this.metrics = new RuntimeMetrics(this.#rt, this.#writer);
  }

  get state(): SystemState {
    return this.#rt.state;
  }

  /** The result of the startup check the last successful `start()` ran; null if none ran (no `startup` option, or not started). */
  get startupCheck(): StartupCheckResult | null {
    return this.#startupCheck;
  }

  get persistence(): PersistenceBackend | undefined {
    return this.#persistence;
  }

  get clock(): Clock {
    return this.#rt.clock;
  }

  /**
   * Idempotent. With a `startup` option, runs the persistence startup check first; no actor can be
   * spawned before it passes. Resolves with the check's result (null without one).
   */
  start(): Promise<StartupCheckResult | null> {
    if (this.#rt.state === 'closing' || this.#rt.state === 'closed') return Promise.reject(systemNotRunningError(this.systemId, this.#rt.state));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<StartupCheckResult | null> {
    this.#rt.state = 'starting';
    let result: StartupCheckResult | null = null;
    if (this.#startup !== undefined && this.#persistence !== undefined) {
      try {
        result = await runStartupCheck(this.#persistence, {
          mode: this.#startup.mode ?? 'fail_on_anomaly',
          ...(this.#startup.recovery ? { recovery: this.#startup.recovery } : {}),
          logger: this.#rt.log,
          onScan: (report) => this.#rt.callHook('onPersistenceScan', report),
          onRecovery: (report) => this.#rt.callHook('onPersistenceRecovery', report),
        });
      } catch (err) {
        // A refused start can be retried (after a repair, say).
        this.#rt.state = 'new';
        this.#starting = null;
        throw err;
      }
    }
    this.#startupCheck = result;
    if (this.#rt.state !== 'starting') return result;
    this.#rt.state = 'running';
    if (this.#auditIntervalMs !== undefined) this.#armAudit(this.#auditIntervalMs);
    return result;
  }

  /** setInterval fires at once for periods above 2^31 − 1 ms; a re-armed timer takes any period. */
  #armAudit(ms: number): void {
    this.#auditTimer = setTimer(
      () => {
        this.audit();
        this.#armAudit(ms);
      },
      ms,
      true,
    );
  }

  /** Throws `PAPYRA_SYSTEM_NOT_RUNNING` unless `start()` has resolved and `close()` has not begun. */
  spawn<A extends Actor<any, any>>(actor: ActorFactory<A>, options: SpawnOptions = {}): RefOf<A> {
    const parent = options.parent === undefined ? null : this.#rt.own(options.parent, 'spawn a child of');
    return this.#rt.spawn(actor, options, parent) as RefOf<A>;
  }

  /** Resolves once the stop is requested; `ref.terminated` resolves when the actor has stopped. */
  stop(ref: ActorRef<any, any>): Promise<void> {
    this.#rt.own(ref, 'stop').requestStop('stopped');
    return Promise.resolve();
  }

  /**
   * The live actor at `"<systemId>:<n>"`; `PAPYRA_ACTOR_NOT_FOUND` if there is none. Only canonical
   * addresses, as refs print them: `"a:1"`, not `"a:01"`.
   */
  refFor(address: string): ActorRef<any, any> {
    const match = typeof address === 'string' ? /^(.+):([1-9]\d{0,15})$/.exec(address) : null;
    if (match === null) throw invalidArgument(`Not an actor address: ${String(address)} (expected "<systemId>:<n>").`, { address });
    const cell = match[1] === this.systemId ? this.#rt.cells.get(Number(match[2])) : undefined;
    if (cell === undefined) throw actorNotFoundError(`at ${address}`);
    return cell.ref;
  }

  /** The live actor with this name; `PAPYRA_ACTOR_NOT_FOUND` if there is none. */
  refForName(name: string): ActorRef<any, any> {
    const cell = this.#rt.names.get(name);
    if (cell === undefined) throw actorNotFoundError(`named ${JSON.stringify(name)}`);
    return cell.ref;
  }

  /** Takes an audit snapshot now; persists it (when a backend is set) and hands it to `onAudit`. */
  audit(): PersistedAudit {
    return this.#rt.audit();
  }

  /** Every event, dead letter and audit record as it is created; returns the unsubscribe function. */
  subscribe(listener: RecordListener): () => void {
    this.#rt.listeners.add(listener);
    return () => this.#rt.listeners.delete(listener);
  }

  /**
   * Idempotent. Stops every actor gracefully (children first), forcing those still running after
   * `defaults.closeTimeoutMs`; persists their ActorStopped events, then flushes the backend (bounded
   * wait). The backend is not closed: whoever passed it in owns it.
   */
  close(): Promise<void> {
    const caller = this.#rt.closingFrom();
    this.#closing ??= this.#close();
    // Awaited by that actor's own turn: its stop cannot wait for the turn (once the turn is pending).
    if (caller !== null) void Promise.resolve().then(() => caller.detachTurn());
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    const rt = this.#rt;
    if (rt.state === 'starting') await this.#starting?.catch(() => {});
    rt.state = 'closing';
    if (this.#writer !== null) this.#writer.closing = true;
    clearTimer(this.#auditTimer);
    this.#auditTimer = null;
    const roots = [...rt.roots];
    for (const cell of roots) cell.requestStop('shutdown');
    const stopped = await withTimeout(
      Promise.all(roots.map((cell) => cell.terminated)).then(() => true),
      this.#closeTimeoutMs,
    );
    if (!stopped) {
      rt.log.error({ remaining: rt.cells.size, timeoutMs: this.#closeTimeoutMs }, 'actors did not stop in time; forcing them');
    }
    for (const cell of [...rt.roots]) cell.abandon('shutdown (forced)');
    await this.#flush();
    // Records after close (dead letters of late tells) are bounded by the queue again.
    if (this.#writer !== null) this.#writer.closing = false;
    rt.state = 'closed';
  }

  async #flush(): Promise<void> {
    const writer = this.#writer;
    const backend = this.#persistence;
    if (writer === null || backend === undefined) return;
    const drained = await writer.drain(this.#flushTimeoutMs);
    if (!drained) this.#rt.log.error({ pending: writer.pending }, 'persistence queue not drained before close; records may be lost');
    try {
      const flushed = await withTimeout(
        backend.flush().then(() => true),
        this.#flushTimeoutMs,
      );
      if (!flushed) this.#rt.log.error({ timeoutMs: this.#flushTimeoutMs }, 'backend flush timed out at close');
    } catch (err) {
      this.#rt.log.error({ err }, 'backend flush failed at close');
    }
  }
}

function withTimeout(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: Timer = null;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimer(() => resolve(false), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimer(timer));
}
