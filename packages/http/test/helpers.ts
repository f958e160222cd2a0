import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Actor } from '@papyra/core';
import { MemoryBackend } from '@papyra/backend-memory';
import type { OperationOptions, PersistedAudit, PersistedDeadLetter, PersistedEvent, ScanReport } from '@papyra/persistence-contract';

/** A real HTTP server on an ephemeral loopback port. */
export async function listen(handler: RequestListener): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers };
}

/** Adds up what it is told. */
export class Counter extends Actor<number, number> {
  total = 0;
  receive(n: number): number {
    this.total += n;
    return this.total;
  }
}

/** Each message waits until `gate.open()`: fills its mailbox on demand. */
export class Gated extends Actor<number, void> {
  static gate = deferred();
  async receive(): Promise<void> {
    await Gated.gate.promise;
  }
}

export function deferred(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Polls `fn` until `accept` says yes; fails after `timeoutMs` (generous: the machine is shared). */
export async function eventually<T>(fn: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    last = await fn();
  }
  return last;
}

/**
 * A memory backend whose writes can be made to hang (`hang()` / `release()`), and whose scans are
 * counted and can be slowed: the faults a test backend can inject that real ones need a server for.
 */
export class FaultyBackend extends MemoryBackend {
  #hold: ReturnType<typeof deferred> | null = null;
  /** While set, every write rejects with it. */
  failWith: Error | null = null;
  scanDelayMs = 0;
  scansStarted = 0;
  scansRunning = 0;
  maxScansRunning = 0;
  anomalies: ScanReport['anomalies'] = [];

  hang(): void {
    this.#hold ??= deferred();
  }

  release(): void {
    this.#hold?.open();
    this.#hold = null;
  }

  async #gate(): Promise<void> {
    if (this.#hold) await this.#hold.promise;
    if (this.failWith) throw this.failWith;
  }

  override async recordEvent(e: PersistedEvent): Promise<void> {
    await this.#gate();
    return super.recordEvent(e);
  }

  override async recordAudit(a: PersistedAudit): Promise<void> {
    await this.#gate();
    return super.recordAudit(a);
  }

  override async recordDeadLetter(d: PersistedDeadLetter): Promise<void> {
    await this.#gate();
    return super.recordDeadLetter(d);
  }

  override async scan(options?: OperationOptions): Promise<ScanReport> {
    this.scansStarted += 1;
    this.scansRunning += 1;
    this.maxScansRunning = Math.max(this.maxScansRunning, this.scansRunning);
    try {
      if (this.scanDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.scanDelayMs));
      const report = await super.scan(options);
      return { ...report, anomalies: [...this.anomalies] };
    } finally {
      this.scansRunning -= 1;
    }
  }
}
