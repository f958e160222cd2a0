import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActorSystem } from '@papyra/core';
import { redactError } from '@papyra/persistence-contract';
import { PapyraEndpoints, routeOf } from './endpoints.js';
import { invalidConfig } from './errors.js';
import { createPapyraHandler, type NodeHandler } from './node.js';
import type { PapyraEndpointsOptions } from './options.js';
import { within } from './util.js';

/** How a service run ends; `runService` exits the process with it. */
export const ExitCode = {
  /** Stopped on a signal (or `shutdown()`) and closed everything in time. */
  OK: 0,
  /** Could not serve at all (e.g. the port is taken). */
  ERROR: 1,
  /** `system.start()` refused: the startup check failed (see the logs for its report). */
  STARTUP_FAILED: 3,
  /** Closing took longer than `shutdownTimeoutMs`; connections were cut. */
  SHUTDOWN_TIMEOUT: 4,
} as const;

export interface ServeOptions extends Omit<PapyraEndpointsOptions, 'system'> {
  system: ObservedServiceSystem;
  /** Default 8080; 0 picks a free port (see `service.port`). */
  port?: number;
  /** Default: every interface. */
  host?: string;
  /** The service's own routes; requests that are not for the four endpoints go here (default: 404). */
  app?: NodeHandler;
  /** Time between failing readiness and closing the listener, so load balancers stop sending first. Default 0. */
  drainDelayMs?: number;
  /** The whole shutdown (drain, system close, `onShutdown`, open connections) is bounded by this. Default 25,000 ms. */
  shutdownTimeoutMs?: number;
  /** Runs after the system closed, within the shutdown bound: close the backend you passed in, flush logs. */
  onShutdown?: () => void | Promise<void>;
}

/** What the lifecycle needs of an `ActorSystem`. */
export type ObservedServiceSystem = PapyraEndpointsOptions['system'] & Pick<ActorSystem, 'start' | 'close'>;

/**
 * A running service: the endpoints (and the app) listening, the system started. `shutdown()` (or
 * `await using`) fails readiness, stops accepting, closes the system, within a bound.
 */
export class PapyraService implements AsyncDisposable {
  readonly server: Server;
  readonly endpoints: PapyraEndpoints;
  readonly #o: ServeOptions;
  #shutdown: Promise<number> | null = null;

  constructor(options: ServeOptions) {
    for (const name of ['port', 'drainDelayMs', 'shutdownTimeoutMs'] as const) {
      const value = options[name];
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw invalidConfig(`${name} must be a non-negative integer.`, { [name]: value });
    }
    this.#o = options;
    this.endpoints = new PapyraEndpoints(options);
    const papyra = createPapyraHandler(this.endpoints);
    const app = options.app;
    this.server = createServer((req, res) => {
      if (app === undefined || routeOf(req.url ?? '/') !== null) papyra(req, res);
      else app(req, res);
    });
  }

  /** The port listened on (after `start()`). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const { address, family } = this.server.address() as AddressInfo;
    const host = address === '::' || address === '0.0.0.0' ? 'localhost' : family === 'IPv6' ? `[${address}]` : address;
    return `http://${host}:${this.port}`;
  }

  /** Resolves once this service has shut down, with its exit code. */
  get done(): Promise<number> | null {
    return this.#shutdown;
  }

  /** Binds the port; rejects if it cannot (e.g. `EADDRINUSE`). Idempotent. */
  async listen(): Promise<void> {
    if (this.server.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.#o.port ?? 8080, this.#o.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Listens first (so `/livez` answers during a long startup check), then starts the system. Rejects
   * if the port cannot be bound, or with the startup check's error after shutting down again.
   */
  async start(): Promise<void> {
    await this.listen();
    try {
      await this.#o.system.start();
    } catch (error) {
      this.endpoints.startupFailed(error);
      this.endpoints.options.logger.error({ err: redactError(error) }, 'actor system refused to start');
      await this.shutdown();
      throw error;
    }
  }

  /** Idempotent; resolves with the exit code (`OK`, `SHUTDOWN_TIMEOUT`, or `ERROR` if closing threw). */
  shutdown(): Promise<number> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #stop(): Promise<number> {
    const log = this.endpoints.options.logger;
    const bound = this.#o.shutdownTimeoutMs ?? 25_000;
    this.endpoints.draining = true;
    const steps = async () => {
      const delay = this.#o.drainDelayMs ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      // Stop accepting; requests in flight finish, idle keep-alive connections go now.
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      await this.#o.system.close();
      await this.#o.onShutdown?.();
      await closed;
    };
    let code: number = ExitCode.OK;
    const outcome = await within(
      steps().then(
        () => null,
        (error: unknown) => error,
      ),
      bound,
    );
    if (!outcome.done) {
      log.error({ timeoutMs: bound }, 'shutdown took too long; cutting connections');
      code = ExitCode.SHUTDOWN_TIMEOUT;
    } else if (outcome.value !== null) {
      log.error({ err: redactError(outcome.value) }, 'shutdown failed');
      code = ExitCode.ERROR;
    }
    this.server.closeAllConnections();
    this.endpoints.close();
    return code;
  }
}

/** Starts a service (see `PapyraService.start`) and returns it; `await using service = await serve(...)`. */
export async function serve(options: ServeOptions): Promise<PapyraService> {
  const service = new PapyraService(options);
  await service.start();
  return service;
}

/** Where signals come from; `process` by default, a stub in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface RunServiceOptions extends ServeOptions {
  /** Default `['SIGTERM', 'SIGINT']`. */
  signals?: NodeJS.Signals[];
  /** Default `process`. */
  signalSource?: SignalSource;
  /** Default `process.exit`. */
  exit?: (code: number) => void;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/**
 * The whole life of a service process: serve, and on SIGTERM/SIGINT shut down and exit with
 * the `ExitCode`. A second signal during shutdown exits at once with 128 + its number. A refused
 * start exits with `STARTUP_FAILED`, a port that cannot be bound with `ERROR`.
 */
export async function runService(options: RunServiceOptions): Promise<PapyraService> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const source = options.signalSource ?? process;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const service = new PapyraService(options);
  const log = service.endpoints.options.logger;
  let exited = false;
  const finish = (code: number) => {
    if (exited) return;
    exited = true;
    for (const s of signals) source.off(s, onSignal);
    exit(code);
  };
  function onSignal(signal: NodeJS.Signals): void {
    if (service.done !== null) {
      log.warn({ signal }, 'second signal during shutdown; exiting now');
      finish(128 + (SIGNAL_NUMBERS[signal] ?? 0));
      return;
    }
    log.info({ signal }, 'shutting down');
    void service.shutdown().then(finish);
  }
  for (const s of signals) source.on(s, onSignal);
  try {
    await service.listen();
  } catch (error) {
    log.error({ err: redactError(error) }, 'cannot listen');
    await service.shutdown();
    finish(ExitCode.ERROR);
    return service;
  }
  // A refused start has already shut the service down.
  await service.start().catch(() => finish(ExitCode.STARTUP_FAILED));
  return service;
}
