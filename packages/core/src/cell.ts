import type { PapyraError } from '@papyra/persistence-contract';
import { Actor, Terminated, type ActorContext, type ActorFactory, type RefOf } from './actor.js';
import { Deque } from './deque.js';
import { abortedError, actorStoppedError, askTimeoutError, checkDuration, invalidArgument, mailboxFullError, tellTimeoutError } from './errors.js';
import { newRef, type ActorRef, type TellOptions } from './ref.js';
import type { Runtime } from './runtime.js';
import type { SpawnOptions } from './system.js';
import { clearTimer, setTimer, type Timer } from './timers.js';
import type { BackoffOptions, OverflowPolicy, SupervisionStrategy, SupervisorDecision } from './types.js';

export type CellState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface CellSettings {
  capacity: number;
  maxWaiting: number;
  overflow: OverflowPolicy;
  strategy: SupervisionStrategy;
  maxRestarts: number;
  withinMs: number;
  backoff: BackoffOptions | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();
const ignore = (): void => {};

/**
 * `instanceof` for telling the runtime's own envelopes from user messages: a user message may be a
 * revoked Proxy, whose prototype cannot even be read, and it is simply not one of ours.
 */
function isA<T>(item: unknown, type: abstract new (...args: never[]) => T): item is T {
  try {
    return item instanceof type;
  } catch {
    return false;
  }
}

/** A sender waiting on the actor. Its deadline timer and abort listener are released once it is settled or delivered. */
class Pending {
  timer: Timer | undefined;
  #signal: AbortSignal | null = null;
  #onAbort: (() => void) | null = null;

  constructor(readonly message: unknown) {}

  listen(signal: AbortSignal, onAbort: () => void): void {
    signal.addEventListener('abort', onAbort, { once: true });
    this.#signal = signal;
    this.#onAbort = onAbort;
  }

  release(): void {
    clearTimer(this.timer);
    if (this.#signal !== null) this.#signal.removeEventListener('abort', this.#onAbort!);
  }
}

/** A pending `ask`: lives in the mailbox (or the backpressure queue) until replied, timed out or aborted. */
class Ask extends Pending {
  settled = false;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  readonly promise: Promise<unknown>;

  constructor(message: unknown) {
    super(message);
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  succeed(value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.resolve(value);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.reject(error);
  }
}

/** A backpressured `tell` waiting for room in the mailbox. */
class TellWaiter extends Pending {
  constructor(
    message: unknown,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
  ) {
    super(message);
  }
}

/**
 * A watched actor stopped. It travels in the watcher's mailbox behind what the stopped actor sent
 * before it stopped (SPEC §6), but takes no room there: it is not counted against the capacity and
 * is never dropped by an overflow policy. Internal, so no user message can pass for one.
 */
class Notice {
  constructor(readonly target: Cell) {}
}

/** A child asks its parent for a supervision decision, answered on the parent's turn (or 'stop' if the wait must end). */
class ChildFailureRequest {
  settled = false;
  readonly promise: Promise<SupervisorDecision | void>;
  #resolve!: (decision: SupervisorDecision | void) => void;

  constructor(
    readonly child: Cell,
    readonly error: unknown,
  ) {
    this.promise = new Promise((resolve) => (this.#resolve = resolve));
  }

  decide(decision: SupervisorDecision | void): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolve(decision);
  }
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

type SystemMessage = ChildFailureRequest | Escalation;
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

  /** Messages, asks and notices, in arrival order. */
  #queue = new Deque<unknown>();
  /** Notices in #queue: they take no room. */
  #notices = 0;
  /** Backpressured senders (and notices behind them), at most `settings.maxWaiting`. */
  #waiters: Deque<TellWaiter | Ask | Notice> | null = null;
  #system: Deque<SystemMessage> | null = null;
  /** A drain is scheduled or running (or the cell is finishing); messages need no extra wake-up. */
  #active = true;
  /** An asynchronous turn (start, receive, restart, decision) is in progress. */
  #busy = false;
  /** A requested stop processes what is queued; a stop after a failure does not. */
  #graceful = true;
  #finishing = false;
  #ended = false;
  /** close() was awaited from this actor's turn: the stop cannot wait for that turn (nor run onStop beside it). */
  #detached = false;
  #restartTimes: number[] = [];
  /** The ask of the turn in progress (or of the restart it caused): failed if the actor ends first. */
  #current: Ask | null = null;
  /** Ends a restart backoff early: a stop must not wait for it. */
  #wakeBackoff: (() => void) | null = null;
  #terminated: { promise: Promise<void>; resolve: () => void } | null = null;
  /** The decision this cell awaits from its parent, and the failure it is about. */
  #decision: ChildFailureRequest | null = null;

  constructor(
    readonly rt: Runtime,
    readonly id: number,
    readonly address: string,
    readonly name: string | null,
    readonly parent: Cell | null,
    readonly factory: () => Actor<any, any>,
    readonly settings: CellSettings,
  ) {
    this.ref = newRef(this);
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

  /** Messages and backpressured senders waiting (queued notices of stopped watched actors are not messages). */
  get mailboxDepth(): number {
    return this.#queue.length - this.#notices + (this.#waiters?.length ?? 0);
  }

  get accepting(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  // ---- sending -------------------------------------------------------------------------------

  tell(message: unknown, options?: TellOptions): Promise<void> {
    if (options !== undefined) {
      try {
        checkTellOptions(options);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (!this.accepting) return this.#refuse(message);
    if (this.#queue.length - this.#notices < this.settings.capacity && (this.#waiters === null || this.#waiters.length === 0)) {
      this.#queue.push(message);
      if (!this.#active) this.#wake();
      return RESOLVED;
    }
    return this.#overflow(message, null, options);
  }

  ask(message: unknown, timeoutMs: number = this.rt.settings.askTimeoutMs, signal?: AbortSignal): Promise<unknown> {
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(invalidArgument(`ask timeoutMs must be a positive finite number, got ${String(timeoutMs)}.`, { timeoutMs: String(timeoutMs) }));
    }
    if (signal !== undefined && !isA(signal, AbortSignal)) return Promise.reject(invalidArgument('ask signal must be an AbortSignal.'));
    if (signal?.aborted === true) return Promise.reject(abortedError(this.address, signal.reason));
    if (!this.accepting) {
      this.rt.deadLetter(this.address, message, true, 'actor stopped');
      return Promise.reject(actorStoppedError(this.address));
    }
    const decision = this.#decision;
    if (decision !== null && this.parent!.#busy) {
      // Waiting would wait on a decision that needs the parent's turn, which may be this very caller.
      this.rt.deadLetter(this.address, message, true, 'actor failed; awaiting supervision');
      return Promise.reject(decision.error);
    }
    const ask = new Ask(message);
    ask.timer = setTimer(() => this.#expire(ask, timeoutMs), timeoutMs);
    if (signal !== undefined) ask.listen(signal, () => this.#abandonAsk(ask, signal.reason));
    if (this.#queue.length - this.#notices < this.settings.capacity && (this.#waiters === null || this.#waiters.length === 0)) {
      this.#queue.push(ask);
      if (!this.#active) this.#wake();
    } else {
      this.#overflow(message, ask, undefined).catch(ignore);
    }
    return ask.promise;
  }

  #refuse(message: unknown): Promise<void> {
    this.rt.deadLetter(this.address, message, false, 'actor stopped');
    return quiet(Promise.reject(actorStoppedError(this.address)));
  }

  #expire(ask: Ask, timeoutMs: number): void {
    if (ask.settled) return;
    this.rt.counters.askTimeouts += 1;
    this.#withdraw(ask, 'ask timed out before delivery');
    ask.fail(askTimeoutError(this.address, timeoutMs));
  }

  #abandonAsk(ask: Ask, reason: unknown): void {
    if (ask.settled) return;
    this.#withdraw(ask, 'ask aborted before delivery');
    ask.fail(abortedError(this.address, reason));
  }

  /** A sender that gave up leaves the mailbox at once (memory, depth) as a dead letter; false if it was already delivered. */
  #withdraw(item: Ask | TellWaiter, reason: string): boolean {
    const removed = this.#waiters?.remove(item) === true || (item instanceof Ask && this.#queue.remove(item));
    if (removed) this.rt.deadLetter(this.address, item.message, item instanceof Ask, reason);
    return removed;
  }

  #overflow(message: unknown, ask: Ask | null, options: TellOptions | undefined): Promise<void> {
    const { overflow, capacity } = this.settings;
    switch (overflow) {
      case 'backpressure': {
        const waiters = (this.#waiters ??= new Deque());
        if (waiters.length >= this.settings.maxWaiting) {
          // Bounded like the mailbox: a sender beyond it is refused, as under 'fail'.
          const error = mailboxFullError(this.address, capacity, overflow);
          this.#dropped(ask ?? message, error, 'mailbox full (backpressure waiters at their bound)');
          return ask !== null ? RESOLVED : quiet(Promise.reject(error));
        }
        if (ask !== null) {
          waiters.push(ask);
          return RESOLVED;
        }
        return quiet(
          new Promise((resolve, reject) => {
            const waiter = new TellWaiter(message, resolve, reject);
            waiters.push(waiter);
            if (options !== undefined) this.#bound(waiter, options);
          }),
        );
      }
      case 'drop_oldest': {
        this.#dropped(this.#shiftMessage(), mailboxFullError(this.address, capacity, overflow), 'mailbox full (drop_oldest)');
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

  /** The oldest message (never a notice: those are not subject to overflow). */
  #shiftMessage(): unknown {
    const queue = this.#queue;
    let held: Notice[] | null = null;
    let item = queue.shift();
    while (isA(item, Notice)) {
      (held ??= []).push(item);
      item = queue.shift();
    }
    if (held !== null) for (let i = held.length - 1; i >= 0; i--) queue.unshift(held[i]!);
    return item;
  }

  #bound(waiter: TellWaiter, { timeoutMs, signal }: TellOptions): void {
    if (timeoutMs !== undefined) {
      waiter.timer = setTimer(() => {
        if (this.#withdraw(waiter, 'tell timed out waiting for room')) waiter.reject(tellTimeoutError(this.address, timeoutMs));
      }, timeoutMs);
    }
    if (signal !== undefined) {
      if (signal.aborted) this.#giveUp(waiter, signal.reason);
      else waiter.listen(signal, () => this.#giveUp(waiter, signal.reason));
    }
  }

  #giveUp(waiter: TellWaiter, reason: unknown): void {
    if (!this.#withdraw(waiter, 'tell aborted waiting for room')) return;
    waiter.release();
    waiter.reject(abortedError(this.address, reason));
  }

  /** A message that will never be processed: dead letter, and its sender (if any) rejected. */
  #dropped(item: unknown, error: unknown, reason: string): void {
    if (isA(item, Ask)) {
      this.rt.deadLetter(this.address, item.message, true, reason);
      item.fail(error);
    } else if (isA(item, TellWaiter)) {
      this.rt.deadLetter(this.address, item.message, false, reason);
      item.release();
      item.reject(error);
    } else if (!isA(item, Notice)) {
      this.rt.deadLetter(this.address, item, false, reason);
    }
  }

  /** Moves backpressured senders into the mailbox as room appears, in arrival order; notices need no room. */
  #promote(): void {
    const waiters = this.#waiters!;
    const queue = this.#queue;
    while (waiters.length > 0) {
      const next = waiters.peek()!;
      if (next instanceof Notice) this.#notices += 1;
      else if (queue.length - this.#notices >= this.settings.capacity) return;
      waiters.shift();
      if (next instanceof TellWaiter) {
        queue.push(next.message);
        next.release();
        next.resolve();
      } else {
        queue.push(next);
      }
    }
  }

  /** System messages bypass the mailbox bound, so stopSelf and escalations can never deadlock. */
  enqueueSystem(message: SystemMessage): void {
    // A stopping or restarting parent has no instance to decide: its children are being stopped.
    if (this.#finishing || this.state === 'stopped' || this.restarting) {
      if (message instanceof ChildFailureRequest) message.decide('stop');
      return;
    }
    (this.#system ??= new Deque(4)).push(message);
    if (!this.#active) this.#wake();
  }

  /** `target` stopped and this cell watches it: a Terminated, behind everything already sent here. */
  notifyTerminated(target: Cell): void {
    if (this.#finishing || this.state === 'stopped') return;
    const notice = new Notice(target);
    if (this.#waiters !== null && this.#waiters.length > 0) {
      this.#waiters.push(notice);
    } else {
      this.#queue.push(notice);
      this.#notices += 1;
    }
    if (!this.#active) this.#wake();
  }

  #wake(): void {
    this.#active = true;
    this.rt.schedule(this.#drain);
  }

  // ---- processing ----------------------------------------------------------------------------

  #begin = (): void => {
    if (this.#ended) return; // forced before it could start
    // Starting is a turn too (onStart is user code): charged like one.
    if (!this.rt.take()) {
      this.rt.defer(this.#begin);
      return;
    }
    this.#busy = true;
    this.#start().then(this.#continue, this.#bug);
  };

  async #start(): Promise<void> {
    const started = await this.#startInstance();
    if (this.state === 'starting') this.state = 'running';
    if (started && !this.#ended) this.rt.lifecycle(this, 'ActorStarted', this.#startedPayload());
  }

  /**
   * What `ActorStarted` records besides the address: the name, and the supervision policy, so a
   * reader of the store (`papyra explain`) can tell a restart storm from the restart budget.
   */
  #startedPayload(): Record<string, unknown> {
    const { strategy, maxRestarts, withinMs } = this.settings;
    return { ...(this.name !== null && { name: this.name }), supervision: { strategy, maxRestarts, withinMs: Number.isFinite(withinMs) ? withinMs : null } };
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
      // A half-started instance is not kept: even 'resume' builds a fresh one.
      this.instance = null;
      const handled = this.#failed(error, null);
      if (handled) await handled;
      return false;
    }
  }

  /**
   * Runs turns until the mailbox is empty. Every turn, sync or async, is charged to the runtime's
   * time slice; when the slice is spent the drain continues after timers and I/O (fairness).
   */
  #drain = (): void => {
    const rt = this.rt;
    for (;;) {
      if (this.#ended) return;
      if (!rt.take()) {
        rt.defer(this.#drain);
        return;
      }
      const step = this.#step();
      if (step === null) break;
      if (step !== undefined) {
        this.#busy = true;
        step.then(this.#continue, this.#bug);
        return;
      }
    }
    if (this.state === 'stopping') {
      // #active stays true: nothing may schedule another drain of a finishing cell.
      this.#finish().catch(this.#bug);
      return;
    }
    this.#active = false;
    // Idle: give a burst's buffers back.
    this.#queue.trim();
    if (this.#waiters !== null && this.#waiters.length === 0) this.#waiters = null;
  };

  #continue = (): void => {
    this.#busy = false;
    this.#drain();
  };

  #bug = (err: unknown): void => {
    this.rt.report('error', { err, address: this.address }, 'internal error in actor runtime; stopping the actor');
    this.abandon('internal error');
  };

  #step(): Step {
    if (this.state === 'stopping' && !this.#graceful) return null;
    const system = this.#system;
    if (system !== null && system.length > 0) return this.#handleSystem(system.shift()!);
    const waiters = this.#waiters;
    if (this.#queue.length === 0) {
      // Room made by a withdrawn ask while a turn ran: the senders waiting for it come in now.
      if (waiters === null || waiters.length === 0) return null;
      this.#promote();
    }
    const item = this.#queue.shift();
    if (waiters !== null && waiters.length > 0) this.#promote();
    if (isA(item, Notice)) {
      this.#notices -= 1;
      // Not watching any more (unwatched after the target stopped): no notice.
      if (this.watching?.delete(item.target) !== true) return undefined;
      return this.#deliver(new Terminated(item.target.ref, item.target.address));
    }
    return this.#deliver(item);
  }

  #deliver(item: unknown): Step {
    let ask: Ask | null = null;
    let message = item;
    if (isA(item, Ask)) {
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
    if (isA(result, Promise)) {
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
    if (message instanceof Escalation) return this.#failed(message.error, null);
    // Already settled: the child stopped meanwhile and needs no decision.
    if (message.settled) return undefined;
    const { child, error } = message;
    try {
      const decision = this.instance!.onChildFailure({ child: child.ref, address: child.address, name: child.name, error });
      if (decision instanceof Promise) {
        return decision.then(
          (d: SupervisorDecision | void) => message.decide(d),
          (err: unknown) => {
            this.rt.report('error', { err, address: this.address, child: child.address }, 'onChildFailure threw; applying the child’s own strategy');
            message.decide();
          },
        );
      }
      message.decide(decision);
    } catch (err) {
      this.rt.report('error', { err, address: this.address, child: child.address }, 'onChildFailure threw; applying the child’s own strategy');
      message.decide();
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
    if (!this.accepting) {
      // Already stopping: there is nothing to decide, and the parent may be awaiting this very stop.
      ask?.fail(error);
      this.#stopAfterFailure(this.stopReason);
      return undefined;
    }
    const parent = this.parent;
    if (parent !== null && parent.decidesForChildren()) {
      // Reject now: the decision waits for the parent's turn, and the parent may be awaiting this ask.
      ask?.fail(error);
      const request = new ChildFailureRequest(this, error);
      this.#decision = request;
      // A parent in the middle of a turn may be awaiting an ask queued here: those cannot wait for it.
      if (parent.#busy) this.#failAsks(error);
      parent.enqueueSystem(request);
      return request.promise.then((decision) => {
        this.#decision = null;
        return this.#apply(decision ?? this.settings.strategy, error, null);
      });
    }
    return this.#apply(this.settings.strategy, error, ask);
  }

  /** Rejects every ask still waiting here with `error` (each a dead letter); tells stay queued. */
  #failAsks(error: unknown): void {
    for (const deque of [this.#queue, this.#waiters]) {
      if (deque === null) continue;
      for (const item of deque.drain() as unknown[]) {
        if (isA(item, Ask)) this.#dropped(item, error, 'actor failed; awaiting supervision');
        else (deque as Deque<unknown>).push(item);
      }
    }
  }

  decidesForChildren(): boolean {
    return this.instance !== null && this.instance.onChildFailure !== Actor.prototype.onChildFailure;
  }

  #apply(decision: SupervisorDecision, error: unknown, ask: Ask | null): Step {
    switch (decision) {
      case 'resume':
        // Nothing to resume when building or starting the instance failed: restart (within the limits) instead.
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
        this.rt.log.warn({ address: this.address, decision: String(decision) }, 'unknown supervision decision; stopping the actor');
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

  /** As in Akka and Python Papyra: the children go first, then the failed instance's onStop, then the backoff, then a fresh instance. */
  async #replaceInstance(delayMs: number): Promise<void> {
    const old = this.instance;
    this.instance = null;
    await this.#stopChildren('parent restarted', true);
    if (old !== null) await this.#callOnStop(old);
    if (delayMs > 0 && this.accepting) await this.#backoff(delayMs);
    if (this.#ended) return;
    if (await this.#startInstance()) this.rt.restarted(this);
  }

  /** Requests every child's stop and waits for all of them; `unwatch` first when the watching instance goes away. */
  #stopChildren(reason: string, unwatch: boolean): Promise<unknown> {
    const children = this.children;
    if (children === null || children.size === 0) return RESOLVED;
    return Promise.all(
      [...children].map((child) => {
        if (unwatch) this.rt.unwatch(this, child);
        child.requestStop(reason);
        return child.terminated;
      }),
    );
  }

  /** Waits `ms` (any length, see timers.ts), or less if the actor is asked to stop or ends meanwhile. */
  #backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimer(timer);
        this.#wakeBackoff = null;
        resolve();
      };
      const timer = setTimer(wake, ms);
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
    // A pending supervision decision is moot now, and its parent may be awaiting this stop.
    this.#decision?.decide('stop');
    this.#wakeBackoff?.();
    if (!this.#active) this.#wake();
  }

  /**
   * close() is awaited by this actor's own turn in progress: stop without waiting for that turn
   * (its queued messages become dead letters and onStop does not run beside the turn).
   */
  detachTurn(): void {
    if (!this.#busy || this.#finishing) return;
    this.#detached = true;
    if (this.accepting) {
      this.state = 'stopping';
      this.stopReason = 'shutdown';
      this.#rejectWaiters();
    }
    this.#graceful = false;
    this.#finish().catch(this.#bug);
  }

  #rejectWaiters(): void {
    const waiters = this.#waiters;
    if (waiters === null || waiters.length === 0) return;
    const error = actorStoppedError(this.address);
    for (const waiter of waiters.drain()) {
      if (waiter instanceof Notice) {
        this.#queue.push(waiter);
        this.#notices += 1;
      } else {
        this.#dropped(waiter, error, 'actor stopped');
      }
    }
  }

  async #finish(): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#flushSystem();
    await this.#stopChildren(this.stopReason === 'shutdown' ? 'shutdown' : 'parent stopped', false);
    if (this.instance !== null && !this.#detached) await this.#callOnStop(this.instance);
    // During close() every lifecycle fact must be written (SPEC §6): wait for room rather than shed.
    if (this.rt.state === 'closing') await this.rt.writer?.room();
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
    for (const message of system.drain()) if (message instanceof ChildFailureRequest) message.decide('stop');
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#finishing = true;
    this.state = 'stopped';
    this.#wakeBackoff?.();
    this.#decision?.decide('stop');
    this.#rejectWaiters();
    // Errors only when someone will see them: capturing a stack per stopped actor is costly.
    let error: PapyraError | null = null;
    for (const item of this.#queue.drain()) {
      if (!isA(item, Notice)) this.#dropped(item, (error ??= actorStoppedError(this.address)), 'actor stopped before processing');
    }
    this.#queue.trim();
    this.#notices = 0;
    this.#waiters = null;
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
      this.rt.report('error', { err, address: this.address }, 'onStop threw');
    }
  }
}

function checkTellOptions(options: TellOptions): void {
  if (options.timeoutMs !== undefined) checkDuration('tell timeoutMs', options.timeoutMs, { unlimited: true, code: 'PAPYRA_INVALID_ARGUMENT' });
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw invalidArgument('tell signal must be an AbortSignal.');
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
    // Lets close() know it is called from this actor's turn (see Runtime.closingFrom).
    this.cell.rt.noteCaller(this.cell);
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
    this.cell.rt.own(ref, 'stop').requestStop('stopped');
    return RESOLVED;
  }

  watch(ref: ActorRef<any, any>): void {
    this.cell.rt.watch(this.cell, this.cell.rt.own(ref, 'watch'));
  }

  unwatch(ref: ActorRef<any, any>): void {
    this.cell.rt.unwatch(this.cell, this.cell.rt.own(ref, 'unwatch'));
  }
}
