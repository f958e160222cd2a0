import type { PapyraError } from '@papyra/persistence-contract';
import { Actor, Terminated, type ActorContext, type ActorFactory, type RefOf } from './actor.js';
import { Deque } from './deque.js';
import { actorStoppedError, askTimeoutError, invalidArgument, mailboxFullError } from './errors.js';
import { ActorRef, cellOf } from './ref.js';
import type { Runtime } from './runtime.js';
import type { SpawnOptions } from './system.js';
import type { BackoffOptions, OverflowPolicy, SupervisionStrategy, SupervisorDecision } from './types.js';

export type CellState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface CellSettings {
  capacity: number;
  overflow: OverflowPolicy;
  strategy: SupervisionStrategy;
  maxRestarts: number;
  withinMs: number;
  backoff: BackoffOptions | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();
const ignore = (): void => {};
/** Turns one drain may run before it lets other cells, timers and I/O in. */
const TURNS_PER_SLICE = 256;

/** A pending `ask`: lives in the mailbox (or the backpressure queue) until replied or timed out. */
class Ask {
  settled = false;
  timer: NodeJS.Timeout | undefined;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  readonly promise: Promise<unknown>;

  constructor(readonly message: unknown) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  succeed(value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(value);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(error);
  }
}

/** A backpressured `tell` waiting for room in the mailbox. */
class TellWaiter {
  constructor(
    readonly message: unknown,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

/** A child asks its parent for a supervision decision, answered on the parent's turn. */
class ChildFailureRequest {
  constructor(
    readonly child: Cell,
    readonly error: unknown,
    readonly resolve: (decision: SupervisorDecision | void) => void,
  ) {}
}

/** A child escalated: the parent fails with the child's error, on the parent's turn. */
class Escalation {
  constructor(readonly error: unknown) {}
}

/**
 * A `tell` result that only an awaiting caller sees fail: fire-and-forget is a normal way to tell,
 * and must not raise unhandled rejections (the failure is already a dead letter).
 */
function quiet(promise: Promise<void>): Promise<void> {
  promise.catch(ignore);
  return promise;
}

type SystemMessage = Terminated | ChildFailureRequest | Escalation;
/** undefined: a turn finished synchronously; null: nothing to do; a promise: a turn in progress. */
type Step = Promise<unknown> | undefined | null;

/**
 * One actor's runtime: mailbox, lifecycle, supervision. The instance inside is replaced on restart;
 * the cell (and so the ref, address, name and mailbox) stays.
 */
export class Cell {
  state: CellState = 'starting';
  instance: Actor<any, any> | null = null;
  children: Set<Cell> | null = null;
  watchers: Set<Cell> | null = null;
  watching: Set<Cell> | null = null;
  stopReason = 'stopped';
  restarting = false;
  readonly ref: ActorRef<any, any>;
  readonly context: CellContext;

  #queue = new Deque<unknown>();
  #waiters: Deque<TellWaiter | Ask> | null = null;
  #system: Deque<SystemMessage> | null = null;
  /** A drain is scheduled or running (or the cell is finishing); messages need no extra wake-up. */
  #active = true;
  /** A requested stop processes what is queued; a stop after a failure does not. */
  #graceful = true;
  #finishing = false;
  #ended = false;
  #restartTimes: number[] = [];
  /** The ask of the turn in progress (or of the restart it caused): failed if the actor ends first. */
  #current: Ask | null = null;
  /** Ends a restart backoff early: a stop must not wait for it. */
  #wakeBackoff: (() => void) | null = null;
  #terminated: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    readonly rt: Runtime,
    readonly id: number,
    readonly address: string,
    readonly name: string | null,
    readonly parent: Cell | null,
    readonly factory: () => Actor<any, any>,
    readonly settings: CellSettings,
  ) {
    this.ref = new ActorRef(this);
    this.context = new CellContext(this);
    rt.schedule(this.#begin);
  }

  get terminated(): Promise<void> {
    if (this.#terminated === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#terminated = { promise, resolve };
      if (this.#ended) resolve();
    }
    return this.#terminated.promise;
  }

  get mailboxDepth(): number {
    return this.#queue.length + (this.#waiters?.length ?? 0);
  }

  get accepting(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  // ---- sending -------------------------------------------------------------------------------

  tell(message: unknown): Promise<void> {
    if (!this.accepting) {
      this.rt.deadLetter(this.address, message, false, 'actor stopped');
      return quiet(Promise.reject(actorStoppedError(this.address)));
    }
    if (this.#queue.length < this.settings.capacity && (this.#waiters === null || this.#waiters.length === 0)) {
      this.#queue.push(message);
      if (!this.#active) this.#wake();
      return RESOLVED;
    }
    return this.#overflow(message, null);
  }

  ask(message: unknown, timeoutMs: number = this.rt.settings.askTimeoutMs): Promise<unknown> {
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(invalidArgument(`ask timeoutMs must be a positive finite number, got ${String(timeoutMs)}.`, { timeoutMs }));
    }
    if (!this.accepting) {
      this.rt.deadLetter(this.address, message, true, 'actor stopped');
      return Promise.reject(actorStoppedError(this.address));
    }
    const ask = new Ask(message);
    ask.timer = setTimeout(() => {
      this.rt.counters.askTimeouts += 1;
      ask.fail(askTimeoutError(this.address, timeoutMs));
    }, timeoutMs);
    if (this.#queue.length < this.settings.capacity && (this.#waiters === null || this.#waiters.length === 0)) {
      this.#queue.push(ask);
      if (!this.#active) this.#wake();
    } else {
      this.#overflow(message, ask).catch(ignore);
    }
    return ask.promise;
  }

  #overflow(message: unknown, ask: Ask | null): Promise<void> {
    const { overflow, capacity } = this.settings;
    switch (overflow) {
      case 'backpressure':
        if (ask !== null) {
          (this.#waiters ??= new Deque()).push(ask);
          return RESOLVED;
        }
        return quiet(new Promise((resolve, reject) => (this.#waiters ??= new Deque()).push(new TellWaiter(message, resolve, reject))));
      case 'drop_oldest': {
        const oldest = this.#queue.shift();
        this.#dropped(oldest, mailboxFullError(this.address, capacity, overflow), 'mailbox full (drop_oldest)');
        this.#queue.push(ask ?? message);
        if (!this.#active) this.#wake();
        return RESOLVED;
      }
      case 'drop_newest':
        this.#dropped(ask ?? message, mailboxFullError(this.address, capacity, overflow), 'mailbox full (drop_newest)');
        return RESOLVED;
      case 'fail': {
        const error = mailboxFullError(this.address, capacity, overflow);
        this.#dropped(ask ?? message, error, 'mailbox full (fail)');
        return quiet(Promise.reject(error));
      }
    }
  }

  /** A message that will never be processed: dead letter, and its ask (if any) rejected. */
  #dropped(item: unknown, error: PapyraError, reason: string): void {
    if (item instanceof Ask) {
      this.rt.deadLetter(this.address, item.message, true, reason);
      item.fail(error);
    } else if (item instanceof TellWaiter) {
      this.rt.deadLetter(this.address, item.message, false, reason);
      item.reject(error);
    } else {
      this.rt.deadLetter(this.address, item, false, reason);
    }
  }

  /** Moves backpressured senders into the mailbox as room appears, in arrival order. */
  #promote(): void {
    const waiters = this.#waiters!;
    while (waiters.length > 0 && this.#queue.length < this.settings.capacity) {
      const waiter = waiters.shift()!;
      if (waiter instanceof TellWaiter) {
        this.#queue.push(waiter.message);
        waiter.resolve();
      } else if (waiter.settled) {
        // Its caller already got PAPYRA_ASK_TIMEOUT; the message was never delivered.
        this.rt.deadLetter(this.address, waiter.message, true, 'ask timed out before delivery');
      } else {
        this.#queue.push(waiter);
      }
    }
  }

  /** System messages bypass the mailbox bound, so stopSelf and death watch can never deadlock. */
  enqueueSystem(message: SystemMessage): void {
    if (this.#finishing || this.state === 'stopped') {
      if (message instanceof ChildFailureRequest) message.resolve('stop');
      return;
    }
    (this.#system ??= new Deque(4)).push(message);
    if (!this.#active) this.#wake();
  }

  #wake(): void {
    this.#active = true;
    this.rt.schedule(this.#drain);
  }

  // ---- processing ----------------------------------------------------------------------------

  #begin = (): void => {
    this.#start().then(this.#drain, this.#bug);
  };

  async #start(): Promise<void> {
    const started = await this.#startInstance();
    if (this.state === 'starting') this.state = 'running';
    if (started && !this.#ended) this.rt.lifecycle(this, 'ActorStarted', {});
  }

  /** Builds and starts a fresh instance; a failure is handed to supervision and yields false. */
  async #startInstance(): Promise<boolean> {
    try {
      const instance = this.factory();
      instance.context = this.context as ActorContext<any, any>;
      this.instance = instance;
      await instance.onStart();
      return true;
    } catch (error) {
      const handled = this.#failed(error, null);
      if (handled) await handled;
      return false;
    }
  }

  #drain = (): void => {
    let budget = TURNS_PER_SLICE;
    for (;;) {
      if (this.#ended) return;
      const step = this.#step();
      if (step === null) break;
      if (step !== undefined) {
        step.then(this.#drain, this.#bug);
        return;
      }
      if (--budget === 0) {
        this.rt.yieldTo(this.#drain);
        return;
      }
    }
    if (this.state === 'stopping') {
      // #active stays true: nothing may schedule another drain of a finishing cell.
      this.#finish().catch(this.#bug);
      return;
    }
    this.#active = false;
  };

  #bug = (err: unknown): void => {
    this.rt.log.error({ err, address: this.address }, 'internal error in actor runtime; stopping the actor');
    this.abandon('internal error');
  };

  #step(): Step {
    if (this.state === 'stopping' && !this.#graceful) return null;
    const system = this.#system;
    if (system !== null && system.length > 0) return this.#handleSystem(system.shift()!);
    if (this.#queue.length === 0) return null;
    const item = this.#queue.shift();
    if (this.#waiters !== null && this.#waiters.length > 0) this.#promote();
    return this.#deliver(item);
  }

  #deliver(item: unknown): Step {
    let ask: Ask | null = null;
    let message = item;
    if (item instanceof Ask) {
      ask = item;
      message = item.message;
    }
    const rt = this.rt;
    const started = rt.sampleTurn() ? rt.clock.monotonic() : -1;
    let result: unknown;
    try {
      result = this.instance!.receive(message);
    } catch (error) {
      rt.timed(started);
      return this.#failed(error, ask);
    }
    if (result instanceof Promise) {
      this.#current = ask;
      return result.then(
        (value: unknown) => {
          this.#current = null;
          rt.processed(started);
          ask?.succeed(value);
        },
        (error: unknown) => {
          this.#current = null;
          rt.timed(started);
          return this.#failed(error, ask);
        },
      );
    }
    rt.processed(started);
    if (ask !== null) ask.succeed(result);
    return undefined;
  }

  #handleSystem(message: SystemMessage): Step {
    if (message instanceof Terminated) {
      // Not watching any more (unwatched after the target stopped): no notice.
      if (this.watching?.delete(cellOf(message.ref)) !== true) return undefined;
      return this.#deliver(message);
    }
    if (message instanceof Escalation) return this.#failed(message.error, null);
    const { child, error } = message;
    try {
      const decision = this.instance!.onChildFailure({ child: child.ref, address: child.address, name: child.name, error });
      if (decision instanceof Promise) {
        return decision.then(message.resolve, (err: unknown) => {
          this.rt.log.error({ err, address: this.address, child: child.address }, 'onChildFailure threw; applying the child’s own strategy');
          message.resolve();
        });
      }
      message.resolve(decision);
    } catch (err) {
      this.rt.log.error({ err, address: this.address, child: child.address }, 'onChildFailure threw; applying the child’s own strategy');
      message.resolve();
    }
    return undefined;
  }

  // ---- supervision ---------------------------------------------------------------------------

  #failed(error: unknown, ask: Ask | null): Step {
    if (this.#ended) {
      ask?.fail(error);
      return undefined;
    }
    this.rt.crashed(this, error);
    const parent = this.parent;
    if (parent !== null && parent.decidesForChildren()) {
      // Reject now: the decision waits for the parent's turn, and the parent may be awaiting this ask.
      ask?.fail(error);
      return new Promise<SupervisorDecision | void>((resolve) => parent.enqueueSystem(new ChildFailureRequest(this, error, resolve))).then(
        (decision) => this.#apply(decision ?? this.settings.strategy, error, null),
      );
    }
    return this.#apply(this.settings.strategy, error, ask);
  }

  decidesForChildren(): boolean {
    return this.instance !== null && this.instance.onChildFailure !== Actor.prototype.onChildFailure;
  }

  #apply(decision: SupervisorDecision, error: unknown, ask: Ask | null): Step {
    switch (decision) {
      case 'resume':
        // Nothing to resume when building the instance failed: restart (within the limits) instead.
        if (this.instance === null) return this.#restart(error, ask);
        ask?.fail(error);
        return undefined;
      case 'restart':
        return this.#restart(error, ask);
      case 'escalate':
        ask?.fail(error);
        if (this.parent !== null) {
          this.parent.enqueueSystem(new Escalation(error));
          this.#stopAfterFailure('escalated');
        } else {
          this.#stopAfterFailure('failure');
        }
        return undefined;
      case 'stop':
        ask?.fail(error);
        this.#stopAfterFailure('failure');
        return undefined;
      default:
        this.rt.log.warn({ address: this.address, decision }, 'unknown supervision decision; stopping the actor');
        ask?.fail(error);
        this.#stopAfterFailure('failure');
        return undefined;
    }
  }

  #restart(error: unknown, ask: Ask | null): Step {
    const { maxRestarts, withinMs, backoff } = this.settings;
    const now = this.rt.clock.monotonic();
    const recent = (this.#restartTimes = this.#restartTimes.filter((t) => now - t < withinMs));
    if (recent.length >= maxRestarts) {
      ask?.fail(error);
      this.#stopAfterFailure('restart limit exceeded');
      return undefined;
    }
    recent.push(now);
    const delay = backoff ? Math.min(backoff.maxMs, backoff.minMs * (backoff.factor ?? 2) ** (recent.length - 1)) : 0;
    this.restarting = true;
    if (ask !== null) this.#current = ask;
    return this.#replaceInstance(delay).finally(() => {
      this.restarting = false;
      if (ask !== null && this.#current === ask) this.#current = null;
      ask?.fail(error);
    });
  }

  async #replaceInstance(delayMs: number): Promise<void> {
    if (delayMs > 0 && this.accepting) await this.#backoff(delayMs);
    if (this.#ended) return;
    const old = this.instance;
    this.instance = null;
    if (old !== null) await this.#callOnStop(old);
    if (await this.#startInstance()) this.rt.restarted(this);
  }

  /** Waits `ms`, or less if the actor is asked to stop or ends meanwhile. */
  #backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakeBackoff = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakeBackoff = wake;
    });
  }

  #stopAfterFailure(reason: string): void {
    this.#graceful = false;
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    this.stopReason = reason;
    this.#rejectWaiters();
  }

  // ---- stopping ------------------------------------------------------------------------------

  /** Graceful: queued messages are processed, later ones become dead letters. */
  requestStop(reason: string): void {
    if (!this.accepting) return;
    this.state = 'stopping';
    this.stopReason = reason;
    this.#rejectWaiters();
    this.#wakeBackoff?.();
    if (!this.#active) this.#wake();
  }

  #rejectWaiters(): void {
    const waiters = this.#waiters;
    if (waiters === null || waiters.length === 0) return;
    const error = actorStoppedError(this.address);
    for (const waiter of waiters.drain()) this.#dropped(waiter, error, 'actor stopped');
  }

  async #finish(): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#flushSystem();
    if (this.children !== null && this.children.size > 0) {
      const reason = this.stopReason === 'shutdown' ? 'shutdown' : 'parent stopped';
      await Promise.all(
        [...this.children].map((child) => {
          child.requestStop(reason);
          return child.terminated;
        }),
      );
    }
    if (this.instance !== null) await this.#callOnStop(this.instance);
    this.#end();
  }

  /** Forced stop (close() timed out): no waiting for the current turn, children or onStop. */
  abandon(reason: string): void {
    if (this.#ended) return;
    if (this.children !== null) for (const child of [...this.children]) child.abandon(reason);
    this.#flushSystem();
    this.stopReason = reason;
    this.#end();
  }

  #flushSystem(): void {
    const system = this.#system;
    this.#system = null;
    if (system === null) return;
    for (const message of system.drain()) if (message instanceof ChildFailureRequest) message.resolve('stop');
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#finishing = true;
    this.state = 'stopped';
    this.#wakeBackoff?.();
    // Errors only when someone will see them: capturing a stack per stopped actor is costly.
    if (this.#queue.length > 0) {
      const error = actorStoppedError(this.address);
      for (const item of this.#queue.drain()) this.#dropped(item, error, 'actor stopped before processing');
    }
    this.#rejectWaiters();
    if (this.#current !== null) this.#current.fail(actorStoppedError(this.address));
    this.#current = null;
    this.instance = null;
    this.rt.ended(this);
    this.#terminated?.resolve();
  }

  async #callOnStop(instance: Actor<any, any>): Promise<void> {
    try {
      await instance.onStop();
    } catch (err) {
      this.rt.log.error({ err, address: this.address }, 'onStop threw');
    }
  }
}

/** `this.context` of every instance of one actor. */
class CellContext implements ActorContext<unknown, unknown> {
  constructor(readonly cell: Cell) {}

  get self() {
    return this.cell.ref;
  }
  get parent() {
    return this.cell.parent?.ref ?? null;
  }
  get system() {
    return this.cell.rt.system;
  }
  get address() {
    return this.cell.address;
  }
  get name() {
    return this.cell.name;
  }
  get persistence() {
    return this.cell.rt.persistence;
  }
  get clock() {
    return this.cell.rt.clock;
  }
  get logger() {
    return this.cell.rt.log;
  }
  get children() {
    return this.cell.children === null ? [] : [...this.cell.children].map((c) => c.ref);
  }

  spawnChild<A extends Actor<any, any>>(actor: ActorFactory<A>, options: Omit<SpawnOptions, 'parent'> = {}): RefOf<A> {
    return this.cell.rt.spawn(actor, options, this.cell) as RefOf<A>;
  }

  stopSelf(): Promise<void> {
    this.cell.requestStop('stopped');
    return RESOLVED;
  }

  stop(ref: ActorRef<any, any>): Promise<void> {
    cellOf(ref).requestStop('stopped');
    return RESOLVED;
  }

  watch(ref: ActorRef<any, any>): void {
    this.cell.rt.watch(this.cell, cellOf(ref));
  }

  unwatch(ref: ActorRef<any, any>): void {
    this.cell.rt.unwatch(this.cell, cellOf(ref));
  }
}
