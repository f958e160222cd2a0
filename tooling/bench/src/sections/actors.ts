import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import nact from 'nact';
import { Actor, ActorSystem, type ActorRef } from '@papyra/core';
import { BareActor, type Slice } from '../baselines/promise-mailbox.js';
import { childScript, interleaved, percentile, perSecond, sideBySide, timed, verify, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';

const run = promisify(execFile);
const memoryChild = childScript('actors-memory');
const idleChild = childScript('actors-idle');

/**
 * The runtime lets the macrotask queue run every 2,048 turns (packages/core, SLICE_TURNS); the bare
 * baseline yields as often, so both arms do the same work for the event loop.
 */
const SLICE_TURNS = 2048;

type Ball = { n: number; from: ActorRef<Ball> };

/** Two actors pass a counter back and forth with `tell`; returns messages processed per second. */
async function papyraPingPong(roundTrips: number): Promise<number> {
  const system = new ActorSystem({ systemId: 'bench' });
  await system.start();
  const last = roundTrips * 2;
  let processed = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  class Player extends Actor<Ball> {
    override async receive(ball: Ball): Promise<void> {
      processed += 1;
      if (ball.n >= last) done();
      else await ball.from.tell({ n: ball.n + 1, from: this.context.self });
    }
  }
  const a = system.spawn(Player);
  const b = system.spawn(Player);
  const ms = await timed(async () => {
    await a.tell({ n: 0, from: b });
    await finished;
  });
  await system.close();
  verify('ping-pong messages processed', last + 1, processed);
  verify('ping-pong turns the runtime counted', last + 1, system.metrics.snapshot().messagesProcessed);
  return perSecond(processed, ms);
}

async function barePingPong(roundTrips: number): Promise<number> {
  type BareBall = { n: number; from: BareActor<BareBall> };
  const last = roundTrips * 2;
  let processed = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const slice: Slice = { every: SLICE_TURNS, turns: 0 };
  const players: BareActor<BareBall>[] = [];
  const play = (self: () => BareActor<BareBall>) => async (ball: BareBall) => {
    processed += 1;
    if (ball.n >= last) done();
    else await ball.from.tell({ n: ball.n + 1, from: self() });
  };
  players.push(
    new BareActor(
      play(() => players[0]!),
      slice,
    ),
    new BareActor(
      play(() => players[1]!),
      slice,
    ),
  );
  const ms = await timed(async () => {
    await players[0]!.tell({ n: 0, from: players[1]! });
    await finished;
  });
  verify('bare ping-pong messages processed', last + 1, processed);
  return perSecond(processed, ms);
}

async function nactPingPong(roundTrips: number): Promise<number> {
  const system = nact.start();
  const last = roundTrips * 2;
  let processed = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  type NactBall = { n: number; from: nact.Ref<NactBall> };
  const player = (name: string) =>
    nact.spawnStateless(
      system,
      (ball: NactBall, ctx: { self: nact.Ref<NactBall> }) => {
        processed += 1;
        if (ball.n >= last) done();
        else nact.dispatch(ball.from, { n: ball.n + 1, from: ctx.self });
      },
      name,
    );
  const a = player('a');
  const b = player('b');
  const ms = await timed(async () => {
    nact.dispatch(a, { n: 0, from: b });
    await finished;
  });
  nact.stop(system);
  verify('nact ping-pong messages processed', last + 1, processed);
  return perSecond(processed, ms);
}

interface Latencies {
  p50: number;
  p99: number;
}

/** Sequential asks of one echo actor; each exchange (request and reply) timed on its own, in µs. */
async function papyraAsk(exchanges: number): Promise<Latencies> {
  const system = new ActorSystem({ systemId: 'bench' });
  await system.start();
  class Echo extends Actor<number, number> {
    override receive(n: number): number {
      return n;
    }
  }
  const echo = system.spawn(Echo);
  const times: number[] = [];
  let replies = 0;
  for (let i = 0; i < exchanges; i++) {
    const start = performance.now();
    if ((await echo.ask(i)) === i) replies += 1;
    times.push((performance.now() - start) * 1000);
  }
  await system.close();
  verify('ask replies', exchanges, replies);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function bareAsk(exchanges: number): Promise<Latencies> {
  type Request = { n: number; reply: (n: number) => void };
  const echo = new BareActor<Request>((r) => r.reply(r.n), { every: SLICE_TURNS, turns: 0 });
  const times: number[] = [];
  let replies = 0;
  for (let i = 0; i < exchanges; i++) {
    const start = performance.now();
    const answer = await new Promise<number>((reply) => void echo.tell({ n: i, reply }));
    if (answer === i) replies += 1;
    times.push((performance.now() - start) * 1000);
  }
  verify('bare ask replies', exchanges, replies);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

class Idle extends Actor<string> {
  override receive(): void {}
}

/** Spawns and stops `total` actors, 1,000 at a time; returns actors fully stopped per second. */
async function spawnStop(total: number): Promise<number> {
  const system = new ActorSystem({ systemId: 'bench' });
  await system.start();
  const ms = await timed(async () => {
    for (let spawned = 0; spawned < total;) {
      const batch = Array.from({ length: Math.min(1000, total - spawned) }, () => system.spawn(Idle));
      await Promise.all(batch.map(async (ref) => (await system.stop(ref), await ref.terminated)));
      spawned += batch.length;
    }
  });
  const stopped = system.metrics.snapshot().actorsStopped;
  await system.close();
  verify('actors stopped', total, stopped);
  return perSecond(stopped, ms);
}

async function idleBytes(mode: 'papyra' | 'nact', actors: number): Promise<number> {
  const { stdout } = await run(process.execPath, ['--expose-gc', idleChild, mode, String(actors)], { maxBuffer: 1 << 20 });
  const out = JSON.parse(stdout) as { bytesPerActor: number; actors: number };
  verify(`${mode} idle actors held`, actors, out.actors);
  return out.bytesPerActor;
}

export async function actorsSection(scale: Scale): Promise<Figure[]> {
  const n = scale.pingPongRoundTrips;
  const messages = (n * 2 + 1).toLocaleString('en-US');
  const [papyra, bare, peer] = await interleaved(scale.runs, [() => papyraPingPong(n), () => barePingPong(n), () => nactPingPong(n)]);
  const asks = await sideBySide(
    scale.runs,
    () => papyraAsk(scale.asks),
    () => bareAsk(scale.asks),
  );
  const [spawned] = await interleaved(scale.runs, [() => spawnStop(scale.spawnStop)]);
  const idle = await sideBySide(
    scale.runs,
    () => idleBytes('papyra', scale.idleActors),
    () => idleBytes('nact', scale.idleActors),
  );
  const { stdout } = await run(process.execPath, ['--expose-gc', memoryChild, String(scale.actorsSpawned)], { maxBuffer: 1 << 20 });
  const memory = JSON.parse(stdout) as { heapAtFifthMb: number; heapAtEndMb: number };
  const pingNote = `messages = turns that ran, counted by the handlers (and by the runtime's messagesProcessed), not tell calls made. The bare mailbox yields to the macrotask queue every ${SLICE_TURNS.toLocaleString('en-US')} turns, as the runtime does`;
  return [
    {
      id: 'actors.ping-pong.vs-bare',
      section: 'actors',
      name: `tell ping-pong, 2 actors, ${messages} messages`,
      subject: { label: 'ActorSystem', unit: 'msg/s', values: papyra! },
      baseline: { label: 'bare promise-resolve mailbox', unit: 'msg/s', values: bare! },
      target: { kind: 'min-ratio', value: 0.3 },
      note: pingNote,
    },
    {
      id: 'actors.ping-pong.vs-nact',
      section: 'actors',
      name: 'tell ping-pong vs nact, same workload',
      subject: { label: 'ActorSystem', unit: 'msg/s', values: papyra! },
      baseline: { label: 'nact 7', unit: 'msg/s', values: peer! },
      target: { kind: 'min-ratio', value: 2 },
      note: 'same rounds as the row above (all three arms interleaved)',
    },
    {
      id: 'actors.ask.p50',
      section: 'actors',
      name: `ask latency p50, ${scale.asks.toLocaleString('en-US')} sequential exchanges`,
      subject: { label: 'ActorSystem ask', unit: 'µs', values: asks[0].map((l) => l.p50) },
      baseline: { label: 'bare mailbox + promise', unit: 'µs', values: asks[1].map((l) => l.p50) },
      note: 'an exchange is one request and its reply; lower is better; no SPEC target',
    },
    {
      id: 'actors.ask.p99',
      section: 'actors',
      name: 'ask latency p99, same exchanges',
      subject: { label: 'ActorSystem ask', unit: 'µs', values: asks[0].map((l) => l.p99) },
      baseline: { label: 'bare mailbox + promise', unit: 'µs', values: asks[1].map((l) => l.p99) },
    },
    {
      id: 'actors.spawn-stop',
      section: 'actors',
      name: `spawn → stop, ${scale.spawnStop.toLocaleString('en-US')} actors, 1,000 at a time, no persistence`,
      subject: { label: 'ActorSystem', unit: 'actors/s', values: spawned! },
      note: 'counted as actorsStopped afterwards; no SPEC target',
    },
    {
      id: 'actors.idle-bytes',
      section: 'actors',
      name: `heap per idle actor, ${scale.idleActors.toLocaleString('en-US')} actors (child process)`,
      subject: { label: 'ActorSystem', unit: 'B', values: idle[0] },
      baseline: { label: 'nact 7 stateless', unit: 'B', values: idle[1] },
      note: 'heap after − before spawning, after a full GC, ÷ actors; no SPEC target',
    },
    {
      id: 'actors.memory-flat',
      section: 'actors',
      name: `heap after spawning+stopping ${scale.actorsSpawned.toLocaleString('en-US')} actors (persisting to ndjson) vs after the first fifth`,
      subject: { label: 'heap at end', unit: 'MB', values: [memory.heapAtEndMb] },
      baseline: { label: 'heap at one fifth', unit: 'MB', values: [memory.heapAtFifthMb] },
      target: { kind: 'max-ratio', value: 1.25 },
      note:
        memory.heapAtEndMb <= memory.heapAtFifthMb * 1.25
          ? 'flat memory: stopped actors are released'
          : `the heap grew by ${Math.round(((memory.heapAtEndMb - memory.heapAtFifthMb) * 2 ** 20) / (scale.actorsSpawned * 0.8)).toLocaleString('en-US')} B per actor spawned and stopped after the first fifth: stopped actors are not all released`,
    },
  ];
}
