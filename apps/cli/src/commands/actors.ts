import { actorInventory, explainActor, type ActorState } from '@papyra/persistence-contract/insights';
import { defineCommand } from '../command.js';
import { parseSince } from '../duration.js';
import { ExitCode } from '../errors.js';
import { formatTime, plural, table } from '../format.js';

/* Inventory and timelines from the stored lifecycle facts (the contract's insights module). */

const STATES: readonly ActorState[] = ['running', 'crashed', 'stopped', 'unknown'];

export const actorsCommand = defineCommand({
  command: 'actors',
  describe: 'Inventory of actors from the stored facts: last state, restarts, crashes, dead letters',
  options: {
    state: { type: 'string', choices: STATES, describe: 'Only actors whose last lifecycle event left them in this state' },
    since: { type: 'string', describe: 'Only facts at or after: epoch ms, ISO-8601, or a duration ago (1h)' },
  },
  examples: [
    ['$0 actors --path ./papyra.ndjson', 'Every actor the store knows'],
    ['$0 actors --state crashed --json --path ./papyra.ndjson', 'Actors waiting on their supervisor'],
  ],
  async run(ctx, args) {
    const since = args.since === undefined ? undefined : parseSince(args.since, ctx.now());
    const actors = await actorInventory(ctx.backend, {
      ...(since !== undefined && { since }),
      ...(args.state !== undefined && { state: args.state as ActorState }),
      signal: ctx.signal,
    });
    const rows = actors.map((a) => [a.address, a.name ?? '-', a.state, String(a.restarts), String(a.crashes), String(a.deadLetters), formatTime(a.lastSeen)]);
    const text =
      actors.length === 0
        ? `No actors in ${ctx.store}.`
        : [
            `${plural(actors.length, 'actor')} in ${ctx.store}`,
            table(
              [
                { header: 'address' },
                { header: 'name' },
                { header: 'state' },
                { header: 'restarts', align: 'right' },
                { header: 'crashes', align: 'right' },
                { header: 'dead letters', align: 'right' },
                { header: 'last seen' },
              ],
              rows,
            ),
          ].join('\n');
    return { exitCode: ExitCode.ok, data: { actors }, text };
  },
});

export const explainCommand = defineCommand({
  command: 'explain',
  describe: "An actor's timeline from the stored facts: crashes and decisions, restarts and budget, stops, restart storms",
  options: {
    actor: { type: 'string', demandOption: true, describe: 'The actor address, e.g. local:3' },
  },
  examples: [['$0 explain --actor local:3 --path ./papyra.ndjson', 'Why did local:3 flap?']],
  async run(ctx, args) {
    const explanation = await explainActor(ctx.backend, args.actor);
    if (explanation.entries.length === 0) {
      return {
        exitCode: ExitCode.ok,
        data: { ...explanation },
        text: `No stored facts about ${args.actor} in ${ctx.store}.`,
        hint: 'papyra actors lists the addresses the store knows.',
      };
    }
    const { policy, summary } = explanation;
    const lines = [
      `${args.actor}${summary?.name ? ` (${summary.name})` : ''}: ${summary?.state ?? 'unknown'}`,
      `supervision: at most ${policy.maxRestarts} restarts within ${policy.withinMs / 1000} s${policy.recorded ? '' : ' (the default; the events do not record the policy)'}`,
      '',
      ...explanation.entries.map((e) => {
        const at = formatTime(e.at);
        const storm = e.storm === undefined ? '' : `  [storm ${e.storm + 1}]`;
        switch (e.kind) {
          case 'crashed':
            return `${at}  crashed: ${e.error} → ${e.decision}${storm}`;
          case 'restarted':
            return `${at}  restarted (${e.budget!.used} of ${e.budget!.maxRestarts} restarts in the window)${storm}`;
          case 'stopped':
            return `${at}  stopped: ${e.reason}`;
          case 'dead_letter':
            return `${at}  dead letter ${e.what}${e.whileStopped ? ' (while stopped)' : ''}: ${e.reason}`;
          default:
            return `${at}  ${e.what}`;
        }
      }),
      ...explanation.storms.map(
        (s, i) =>
          `${i === 0 ? '\n' : ''}storm ${i + 1}: ${s.restarts} restarts from ${formatTime(s.start)} to ${formatTime(s.end)}; began with: ${s.firstCrash.error ?? 'unknown error'}`,
      ),
    ];
    return { exitCode: ExitCode.ok, data: { ...explanation }, text: lines.join('\n') };
  },
});
