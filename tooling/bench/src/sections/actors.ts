import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import nact from 'nact';
import { Actor, ActorSystem, type ActorRef } from '@papyra/core';
import { BareActor } from '../baselines/promise-mailbox.js';
import { childScript, perSecond, sideBySide, timed, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';

const run = promisify(execFile);
const memoryChild = childScript('actors-memory');

type Ball = { n: number; from: ActorRef<Ball> };

/** Two actors pass a counter back and forth with `tell` until it reaches `roundTrips`. */
async function papyraPingPong(roundTrips: number): Promise<number> {
  const system = new ActorSystem({ systemId: 'bench' });
  await system.start();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  class Player extends Actor<Ball> {
    override async receive(ball: Ball): Promise<void> {
      if (ball.n >= roundTrips * 2) done();
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
  return perSecond(roundTrips * 2, ms);
}

async function barePingPong(roundTrips: number): Promise<number> {
  type BareBall = { n: number; from: BareActor<BareBall> };
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const players: BareActor<BareBall>[] = [];
  const play = (self: () => BareActor<BareBall>) => async (ball: BareBall) => {
    if (ball.n >= roundTrips * 2) done();
    else await ball.from.tell({ n: ball.n + 1, from: self() });
  };
  players.push(new BareActor(play(() => players[0]!)), new BareActor(play(() => players[1]!)));
  const ms = await timed(async () => {
    await players[0]!.tell({ n: 0, from: players[1]! });
    await finished;
  });
  return perSecond(roundTrips * 2, ms);
}

async function nactPingPong(roundTrips: number): Promise<number> {
  const system = nact.start();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  type NactBall = { n: number; from: nact.Ref<NactBall> };
  const player = (name: string) =>
    nact.spawnStateless(system, (ball: NactBall, ctx: { self: nact.Ref<NactBall> }) => {
      if (ball.n >= roundTrips * 2) done();
      else nact.dispatch(ball.from, { n: ball.n + 1, from: ctx.self });
    }, name);
  const a = player('a');
  const b = player('b');
  const ms = await timed(async () => {
    nact.dispatch(a, { n: 0, from: b });
    await finished;
  });
  nact.stop(system);
  return perSecond(roundTrips * 2, ms);
}

export async function actorsSection(scale: Scale): Promise<Figure[]> {
  const n = scale.pingPongRoundTrips;
  const [papyra, bare] = await sideBySide(scale.runs, () => papyraPingPong(n), () => barePingPong(n));
  const [papyra2, peer] = await sideBySide(scale.runs, () => papyraPingPong(n), () => nactPingPong(n));
  const { stdout } = await run(process.execPath, ['--expose-gc', memoryChild, String(scale.actorsSpawned)], { maxBuffer: 1 << 20 });
  const memory = JSON.parse(stdout) as { heapAtFifthMb: number; heapAtEndMb: number };
  return [
    { section: 'actors', name: `tell ping-pong, 2 actors, ${(n * 2).toLocaleString('en-US')} messages`, subject: { label: 'ActorSystem', unit: 'msg/s', values: papyra }, baseline: { label: 'bare promise-resolve mailbox', unit: 'msg/s', values: bare }, target: { kind: 'min-ratio', value: 0.3 } },
    { section: 'actors', name: 'tell ping-pong vs nact, same workload', subject: { label: 'ActorSystem', unit: 'msg/s', values: papyra2 }, baseline: { label: 'nact 7', unit: 'msg/s', values: peer }, target: { kind: 'min-ratio', value: 2 } },
    {
      section: 'actors',
      name: `heap after spawning+stopping ${scale.actorsSpawned.toLocaleString('en-US')} actors (persisting to ndjson) vs after the first fifth`,
      subject: { label: 'heap at end', unit: 'MB', values: [memory.heapAtEndMb] },
      baseline: { label: 'heap at one fifth', unit: 'MB', values: [memory.heapAtFifthMb] },
      target: { kind: 'max-ratio', value: 1.25 },
      note: 'flat memory: stopped actors are released',
    },
  ];
}
