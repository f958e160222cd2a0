import type { Logger, PersistenceBackend } from '@papyra/persistence-contract';
import type { ActorRef } from './ref.js';
import type { ActorSystem, SpawnOptions } from './system.js';
import type { Clock, SupervisorDecision } from './types.js';

/** Delivered through `receive()` to every watcher of an actor that stopped. */
export class Terminated {
  readonly type = 'Terminated' as const;
  constructor(
    readonly ref: ActorRef<any, any>,
    readonly address: string,
  ) {}

  toJSON(): { type: 'Terminated'; address: string } {
    return { type: this.type, address: this.address };
  }
}

export function isTerminated(message: unknown): message is Terminated {
  return message instanceof Terminated;
}

export interface ChildFailure {
  child: ActorRef<any, any>;
  address: string;
  name: string | null;
  error: unknown;
}

/** What an actor sees of itself and its system; the same object across restarts. */
export interface ActorContext<Msg = unknown, Reply = unknown> {
  readonly self: ActorRef<Msg, Reply>;
  readonly parent: ActorRef<any, any> | null;
  readonly system: ActorSystem;
  readonly address: string;
  readonly name: string | null;
  /** The system's backend, if it has one (read-only use: lists, metrics). */
  readonly persistence: PersistenceBackend | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly children: ReadonlyArray<ActorRef<any, any>>;
  spawnChild<A extends Actor<any, any>>(actor: ActorFactory<A>, options?: Omit<SpawnOptions, 'parent'>): RefOf<A>;
  /** Resolves once the stop is requested; the actor stops after its current turn and its queued messages. */
  stopSelf(): Promise<void>;
  stop(ref: ActorRef<any, any>): Promise<void>;
  /**
   * Exactly one `Terminated` arrives through `receive()` when `ref` stops (at once if it already
   * has), after every message `ref` sent here before it stopped. Compiles only when `Msg` accepts
   * `Terminated`.
   */
  watch(ref: ActorRef<any, any>, ...onlyIfMsgAcceptsTerminated: Terminated extends Msg ? [] : [never]): void;
  unwatch(ref: ActorRef<any, any>): void;
}

/**
 * An actor: state plus a `receive` that the runtime calls with one message at a time. `context` is
 * set before `onStart`, so constructors must not use it. A restart builds a new instance.
 */
export abstract class Actor<Msg = unknown, Reply = void> {
  declare context: ActorContext<Msg, Reply>;

  /** Runs before the first message, and again in each new instance after a restart. */
  onStart(): void | Promise<void> {}

  abstract receive(message: Msg): Reply | Promise<Reply>;

  /** Runs once when the actor stops, and on the failed instance before a restart. */
  onStop(): void | Promise<void> {}

  /**
   * Runs on this actor's own turn when a child's `receive` or `onStart` threw. Return nothing to
   * apply the child's own supervision strategy.
   */
  onChildFailure(_failure: ChildFailure): SupervisorDecision | void | Promise<SupervisorDecision | void> {}
}

export type ActorClass<A extends Actor<any, any>> = new () => A;
/** A class with a no-argument constructor, or a function that builds an instance. */
export type ActorFactory<A extends Actor<any, any>> = ActorClass<A> | (() => A);

export type MessageOf<A> = A extends { receive(message: infer M): unknown } ? M : never;
export type ReplyOf<A> = A extends { receive(message: any): infer R } ? Awaited<R> : never;
export type RefOf<A> = ActorRef<MessageOf<A>, ReplyOf<A>>;
