import { PapyraError, inspectLine, silentLogger, type Logger, type PersistedRecord } from '@papyra/persistence-contract';
import type { RedisClientLike } from './client.js';
import { waitReady, type RedisClient } from './connection.js';
import { commandError, describeError, isReplyError } from './errors.js';
import type { RawEntry } from './streams.js';

/** An ioredis 5.x or 6.x `Redis` or `Cluster`. */
type AnyClient = RedisClientLike;

/** A record read through a consumer group, with what is needed to ack or claim it. */
export interface ConsumedEntry {
  /** The stream entry id (what `ack` and `claim` take). */
  id: string;
  stream: string;
  record: PersistedRecord;
  /** How many times the group has delivered this entry, this delivery included. */
  deliveries: number;
}

export interface GroupOptions {
  stream: string;
  group: string;
}

export interface PoisonOptions {
  /** An entry delivered more often than this is routed to the poison stream and acked; default 5. */
  maxDeliveries?: number;
  /** Where poison entries go; default `<stream>:poison` (same hash slot as the stream). */
  poisonStream?: string;
  logger?: Logger;
}

export interface PendingSummary {
  /** Entries delivered and not yet acknowledged. */
  pending: number;
  smallestId: string | null;
  largestId: string | null;
  consumers: { name: string; pending: number }[];
}

export interface AutoClaimResult {
  /** Pass as `start` to continue; `0-0` when the whole pending list has been walked. */
  next: string;
  entries: ConsumedEntry[];
  /** Pending entries that no longer exist in the stream (removed from the pending list by Redis). */
  deleted: string[];
  /** Ids routed to the poison stream. */
  poisoned: string[];
}

const cmd = (client: AnyClient) => client as unknown as RedisClient;

/** Creates the group (and the stream) unless it exists; resolves true when it was created. */
export async function ensureGroup(client: AnyClient, options: GroupOptions & { startId?: string }): Promise<boolean> {
  try {
    await cmd(client).xgroup('CREATE', options.stream, options.group, options.startId ?? '0', 'MKSTREAM');
    return true;
  } catch (error) {
    if (isReplyError(error) && describeError(error).startsWith('BUSYGROUP')) return false;
    throw commandError('XGROUP CREATE', error);
  }
}

/** Acknowledges entries; resolves with how many were pending. */
export async function ack(client: AnyClient, options: GroupOptions, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  try {
    return await cmd(client).xack(options.stream, options.group, ...ids);
  } catch (error) {
    throw commandError('XACK', error);
  }
}

export async function pendingSummary(client: AnyClient, options: GroupOptions): Promise<PendingSummary> {
  try {
    const [pending, smallest, largest, consumers] = (await cmd(client).xpending(options.stream, options.group)) as [
      number,
      string | null,
      string | null,
      [string, string][] | null,
    ];
    return {
      pending: Number(pending),
      smallestId: smallest ?? null,
      largestId: largest ?? null,
      consumers: (consumers ?? []).map(([name, count]) => ({ name, pending: Number(count) })),
    };
  } catch (error) {
    throw commandError('XPENDING', error);
  }
}

/** Takes over the given entries if idle for at least `minIdleMs` (XCLAIM); poison entries are routed. */
export async function claim(
  client: AnyClient,
  options: GroupOptions & PoisonOptions & { consumer: string; minIdleMs: number },
  ids: readonly string[],
): Promise<ConsumedEntry[]> {
  if (ids.length === 0) return [];
  try {
    const reply = (await cmd(client).callBuffer('XCLAIM', options.stream, options.group, options.consumer, options.minIdleMs, ...ids)) as [Buffer, Buffer[]][];
    const { entries } = await deliver(client, options, toEntries(reply), null);
    return entries;
  } catch (error) {
    throw commandError('XCLAIM', error);
  }
}

/** Takes over entries idle for at least `minIdleMs` (XAUTOCLAIM), e.g. from a consumer that crashed. */
export async function autoClaim(
  client: AnyClient,
  options: GroupOptions & PoisonOptions & { consumer: string; minIdleMs: number; start?: string; count?: number },
): Promise<AutoClaimResult> {
  try {
    const [next, claimed, deleted] = (await cmd(client).callBuffer(
      'XAUTOCLAIM',
      options.stream,
      options.group,
      options.consumer,
      options.minIdleMs,
      options.start ?? '0-0',
      'COUNT',
      options.count ?? 100,
    )) as [Buffer, [Buffer, Buffer[]][], Buffer[] | undefined];
    const { entries, poisoned } = await deliver(client, options, toEntries(claimed), null);
    return { next: next.toString(), entries, deleted: (deleted ?? []).map((id) => id.toString()), poisoned };
  } catch (error) {
    throw commandError('XAUTOCLAIM', error);
  }
}

export interface ConsumeOptions extends GroupOptions, PoisonOptions {
  consumer: string;
  /** Entries per XREADGROUP; default 100. */
  count?: number;
  /** How long one XREADGROUP blocks waiting for entries; default 2,000 ms (keep it below the client's commandTimeout). */
  blockMs?: number;
  /** Stops the consumer. */
  signal?: AbortSignal;
}

/**
 * Reads a stream through a consumer group on a connection of its own (XREADGROUP BLOCK would
 * stall every other command on a shared one). First re-reads this consumer's own pending entries
 * (left by a previous run), then new ones. Use it as an async iterator and `ack` yourself, or give
 * `run` a handler: entries are acked after the handler resolves and stay pending when it throws.
 */
export class StreamConsumer implements AsyncIterable<ConsumedEntry> {
  readonly #client: AnyClient;
  readonly #options: ConsumeOptions;
  readonly #log: Logger;
  #connection: RedisClient | undefined;
  #closed = false;

  constructor(client: AnyClient, options: ConsumeOptions) {
    this.#client = client;
    this.#options = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'consumer-group', backend: 'redis' });
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedEntry> {
    const connection = (this.#connection ??= cmd(this.#client).duplicate());
    try {
      yield* this.#read(connection);
    } finally {
      // Iteration over (break, error or close): the blocking connection goes with it.
      connection.disconnect();
      this.#connection = undefined;
    }
  }

  async *#read(connection: RedisClient): AsyncGenerator<ConsumedEntry> {
    const { stream, group, consumer } = this.#options;
    let cursor = '0';
    let failures = 0;
    while (!this.#closed && !this.#options.signal?.aborted) {
      let reply: [Buffer, [Buffer, Buffer[] | null][]][] | null;
      try {
        await waitReady(connection, 3_000, 'consume');
        const { count = 100, blockMs = 2_000 } = this.#options;
        reply = (await connection.xreadgroupBuffer('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', stream, cursor)) as typeof reply;
        failures = 0;
      } catch (error) {
        if (this.#closed) return;
        if (isReplyError(error)) throw commandError('XREADGROUP', error);
        failures += 1;
        this.#log.warn({ err: { message: describeError(error) }, failures }, 'consumer read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 2_000)));
        continue;
      }
      const items = reply?.[0]?.[1] ?? [];
      if (cursor !== '>' && items.length === 0) {
        cursor = '>';
        continue;
      }
      const gone = items.filter(([, fields]) => fields === null).map(([id]) => id.toString());
      // Pending entries deleted from the stream cannot be processed: drop them from the pending list.
      if (gone.length > 0) await ack(this.#client, this.#options, gone);
      const present = toEntries(items.filter((item): item is [Buffer, Buffer[]] => item[1] !== null));
      if (cursor !== '>' && present.length > 0) cursor = present[present.length - 1]!.id;
      const { entries } = await deliver(this.#client, this.#options, present, cursor === '>' ? 1 : null);
      for (const entry of entries) {
        if (this.#closed) return;
        yield entry;
      }
    }
  }

  /** Calls `handler` for each entry until closed; acks what it handled, leaves failures pending. */
  async run(handler: (entry: ConsumedEntry) => void | Promise<void>): Promise<void> {
    for await (const entry of this) {
      try {
        await handler(entry);
      } catch (error) {
        this.#log.warn({ err: { message: describeError(error) }, id: entry.id, deliveries: entry.deliveries }, 'handler failed; entry left pending');
        continue;
      }
      await ack(this.#client, this.#options, [entry.id]);
    }
  }

  acknowledge(ids: readonly string[]): Promise<number> {
    return ack(this.#client, this.#options, ids);
  }

  /** Stops reading and closes the dedicated connection (never the client it was given). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#connection?.disconnect();
  }
}

export function consume(client: AnyClient, options: ConsumeOptions): StreamConsumer {
  return new StreamConsumer(client, options);
}

function toEntries(reply: [Buffer, Buffer[]][]): RawEntry[] {
  return reply.map(([id, fields]) => ({ id: id.toString(), fields }));
}

function dataOf(entry: RawEntry): Buffer | undefined {
  for (let i = 0; i + 1 < entry.fields.length; i += 2) if (entry.fields[i]!.toString() === 'data') return entry.fields[i + 1];
  return undefined;
}

/**
 * Turns delivered entries into records. Entries past `maxDeliveries`, and entries that are not
 * records at all (they would fail forever), go to the poison stream and are acked, atomically.
 */
async function deliver(
  client: AnyClient,
  options: GroupOptions & PoisonOptions,
  raw: RawEntry[],
  knownDeliveries: number | null,
): Promise<{ entries: ConsumedEntry[]; poisoned: string[] }> {
  const maxDeliveries = options.maxDeliveries ?? 5;
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) throw new PapyraError('PAPYRA_INVALID_CONFIG', 'maxDeliveries must be a positive integer.');
  const deliveries = knownDeliveries === null ? await deliveryCounts(client, options, raw) : raw.map(() => knownDeliveries);
  const entries: ConsumedEntry[] = [];
  const poisoned: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const entry = raw[i]!;
    const count = deliveries[i]!;
    const data = dataOf(entry);
    const verdict = data === undefined ? { ok: false as const, detail: 'no "data" field' } : inspectLine(data);
    if (!verdict.ok) {
      await routePoison(client, options, entry, count, `not a record: ${verdict.detail}`);
      poisoned.push(entry.id);
    } else if (count > maxDeliveries) {
      await routePoison(client, options, entry, count, `delivered ${count} times (max ${maxDeliveries})`);
      poisoned.push(entry.id);
    } else {
      entries.push({ id: entry.id, stream: options.stream, record: verdict.record, deliveries: count });
    }
  }
  return { entries, poisoned };
}

async function deliveryCounts(client: AnyClient, options: GroupOptions, raw: RawEntry[]): Promise<number[]> {
  if (raw.length === 0) return [];
  const pipeline = cmd(client).pipeline();
  for (const entry of raw) pipeline.xpending(options.stream, options.group, entry.id, entry.id, 1);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, reply]) => {
    if (error) throw error;
    const row = (reply as [string, string, number, number][])[0];
    return row === undefined ? 1 : Number(row[3]);
  });
}

async function routePoison(client: AnyClient, options: GroupOptions & PoisonOptions, entry: RawEntry, deliveries: number, reason: string): Promise<void> {
  const poisonStream = options.poisonStream ?? `${options.stream}:poison`;
  const fields: (string | Buffer)[] = [...entry.fields, 'poison.source', options.stream, 'poison.entry_id', entry.id, 'poison.group', options.group];
  fields.push('poison.deliveries', String(deliveries), 'poison.reason', reason);
  const results =
    (await cmd(client)
      .multi()
      .xadd(poisonStream, '*', ...fields)
      .xack(options.stream, options.group, entry.id)
      .exec()) ?? [];
  for (const [error] of results) if (error) throw error;
  (options.logger ?? silentLogger)
    .child({ component: 'consumer-group', backend: 'redis' })
    .warn({ stream: options.stream, id: entry.id, deliveries, poisonStream, reason }, 'poison entry routed');
}
