import { applyListQuery, type ListQuery, type PersistedDeadLetter, type PersistedEvent, type PersistedRecord } from '@papyra/persistence-contract';
import { parseSince } from '../duration.js';
import { ExitCode } from '../errors.js';
import { brief, formatTime, keyValues, plural, table, type Column } from '../format.js';
import { defineCommand, integerFlag, type CommandArgs } from '../command.js';
import type { CommandContext } from '../run.js';
import { summarizeStore, type Count } from '@papyra/persistence-contract/insights';
import { indent } from './persistence.js';
import { damagedSkipped } from './shared.js';

/** The options every list takes. */
const LIST_OPTIONS = {
  limit: { type: 'string', default: '50', defaultDescription: '50', coerce: integerFlag('--limit', 0), describe: 'The newest N records' },
  since: { type: 'string', describe: 'Only records at or after: epoch ms, ISO-8601, or a duration ago (15m, 2h, 7d)' },
  reverse: { type: 'boolean', describe: 'Newest first' },
} as const;
type ListArgs = CommandArgs<typeof LIST_OPTIONS> & { eventType?: string; actor?: string; target?: string };

/** `local:3` matches itself; a bare `3` matches the actor id of any system. */
export function addressMatches(address: string | null, wanted: string): boolean {
  if (address === null) return false;
  return wanted.includes(':') ? address === wanted : address.slice(address.lastIndexOf(':') + 1) === wanted;
}

function query(ctx: CommandContext, args: ListArgs): ListQuery {
  const since = args.since === undefined ? undefined : parseSince(args.since, ctx.now());
  return { limit: args.limit, ...(since !== undefined && { since }), order: args.reverse ? 'desc' : 'asc' };
}

/**
 * Lists with the backend's own query; with a filter, lists every record since `since` and applies
 * the contract's `applyListQuery` to the matches, so `--limit` still means "the newest N matches".
 */
async function list<T extends PersistedRecord>(fetch: (q?: ListQuery) => Promise<T[]>, q: ListQuery, filter: ((r: T) => boolean) | undefined): Promise<T[]> {
  if (!filter) return fetch(q);
  const all = await fetch(q.since === undefined ? {} : { since: q.since });
  return applyListQuery(all.filter(filter), { ...(q.limit !== undefined && { limit: q.limit }), ...(q.order !== undefined && { order: q.order }) });
}

function listing<T extends PersistedRecord>(
  ctx: CommandContext,
  args: ListArgs,
  noun: [string, string],
  records: T[],
  q: ListQuery,
  columns: Column[],
  row: (r: T) => string[],
  key: string,
  filters: Record<string, string | undefined>,
  damaged: { count: number; note?: string },
) {
  const shown = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
  const header = `${plural(records.length, noun[0], noun[1])} from ${ctx.store}${records.length === args.limit ? ` (the newest ${args.limit}; raise --limit for more)` : ''}`;
  const text = records.length === 0 ? `No ${noun[1]} in ${ctx.store} match.` : `${table(columns, records.map(row))}\n\n${header}`;
  return {
    exitCode: ExitCode.ok,
    data: { query: { ...q, ...shown }, count: records.length, [key]: records, damagedSkipped: damaged.count },
    text,
    ...(damaged.note !== undefined && { note: damaged.note }),
  };
}

export const eventsCommand = defineCommand({
  command: 'events',
  describe: 'Lifecycle events (newest --limit, oldest first)',
  options: {
    ...LIST_OPTIONS,
    'event-type': { type: 'string', describe: 'Only this event type (ActorStarted, ActorCrashed, ActorRestarted, ActorStopped)' },
    actor: { type: 'string', describe: 'Only this actor: an address (local:3) or an actor id (3)' },
  },
  examples: [
    ['$0 inspect events --path ./papyra.ndjson --since 15m', 'Events of the last 15 minutes'],
    ['$0 inspect events --path ./papyra.ndjson --event-type ActorCrashed --reverse', 'Crashes, newest first'],
  ],
  async run(ctx, args) {
    const q = query(ctx, args);
    const filter =
      args.eventType === undefined && args.actor === undefined
        ? undefined
        : (e: PersistedEvent) =>
            (args.eventType === undefined || e.eventType === args.eventType) && (args.actor === undefined || addressMatches(e.actorAddress, args.actor));
    const events = await list<PersistedEvent>((x) => ctx.backend.listEvents(x), q, filter);
    return listing(
      ctx,
      args,
      ['event', 'events'],
      events,
      q,
      [{ header: 'TIME' }, { header: 'ACTOR' }, { header: 'EVENT' }, { header: 'PAYLOAD' }],
      (e) => [formatTime(e.timestamp), e.actorAddress ?? '-', e.eventType, brief(e.payload)],
      'events',
      { eventType: args.eventType, actor: args.actor },
      await damagedSkipped(ctx),
    );
  },
});

export const auditsCommand = defineCommand({
  command: 'audits',
  describe: 'Audit snapshots',
  options: LIST_OPTIONS,
  examples: [['$0 inspect audits --path ./papyra.ndjson --limit 1', 'The latest audit']],
  async run(ctx, args) {
    const q = query(ctx, args);
    const audits = await ctx.backend.listAudits(q);
    const n = (header: string): Column => ({ header, align: 'right' });
    return listing(
      ctx,
      args,
      ['audit', 'audits'],
      audits,
      q,
      [{ header: 'TIME' }, n('TOTAL'), n('ALIVE'), n('STOPPING'), n('RESTARTING'), n('REGISTRY'), n('ORPHANS'), n('DEAD'), n('DEAD LETTERS')],
      (a) => [
        formatTime(a.timestamp),
        ...[
          a.totalActors,
          a.aliveActors,
          a.stoppingActors,
          a.restartingActors,
          a.registrySize,
          a.registryOrphans.length,
          a.registryDead.length,
          a.deadLettersCount,
        ].map(String),
      ],
      'audits',
      {},
      await damagedSkipped(ctx),
    );
  },
});

export const deadLettersCommand = defineCommand({
  command: 'dead-letters',
  describe: 'Messages that could not be delivered',
  options: { ...LIST_OPTIONS, target: { type: 'string', describe: 'Only this target: an address (local:2) or an actor id (2)' } },
  examples: [
    ['$0 inspect dead-letters --path ./papyra.ndjson --target local:2', 'Dead letters sent to one actor'],
    ['$0 inspect dead-letters --path ./papyra.ndjson --since 2025-01-01T00:00:00Z --json', 'Since a date, as JSON'],
  ],
  async run(ctx, args) {
    const q = query(ctx, args);
    const filter = args.target === undefined ? undefined : (d: PersistedDeadLetter) => addressMatches(d.target, args.target!);
    const letters = await list<PersistedDeadLetter>((x) => ctx.backend.listDeadLetters(x), q, filter);
    return listing(
      ctx,
      args,
      ['dead letter', 'dead letters'],
      letters,
      q,
      [{ header: 'TIME' }, { header: 'TARGET' }, { header: 'MESSAGE TYPE' }, { header: 'REPLY' }, { header: 'REASON' }, { header: 'PAYLOAD' }],
      (d) => [formatTime(d.timestamp), d.target ?? '-', d.messageType, d.expectsReply ? 'yes' : 'no', d.reason || '-', brief(d.payload, 40)],
      'deadLetters',
      { target: args.target },
      await damagedSkipped(ctx),
    );
  },
});

export const summaryCommand = defineCommand({
  command: 'summary',
  describe: 'Counts, event types, actors, dead letters by target and type, time range, latest audit',
  examples: [['$0 inspect summary --path ./papyra.ndjson', 'What is in this store?']],
  async run(ctx) {
    const summary = await summarizeStore(ctx.backend, { signal: ctx.signal });
    const damaged = await damagedSkipped(ctx);
    const counts = (title: string, rows: Count[]) =>
      rows.length === 0
        ? []
        : [
            '',
            title,
            indent(
              table(
                [{ header: 'NAME' }, { header: 'COUNT', align: 'right' }],
                rows.map((r) => [r.name, String(r.count)]),
              ),
            ),
          ];
    const a = summary.latestAudit;
    const text = [
      `Summary of ${ctx.store}`,
      indent(
        keyValues([
          [
            'records',
            [plural(summary.counts.events, 'event'), plural(summary.counts.audits, 'audit'), plural(summary.counts.deadLetters, 'dead letter')].join(' · '),
          ],
          ['time span', `${formatTime(summary.timeRange.oldest)} → ${formatTime(summary.timeRange.newest)}`],
        ]),
      ),
      ...counts('Event types', summary.eventTypes),
      ...counts('Actors (by events)', summary.actors),
      ...counts('Dead letters by target', summary.deadLettersByTarget),
      ...counts('Dead letters by message type', summary.deadLettersByMessageType),
      ...(a === null
        ? ['', 'No audit recorded.']
        : [
            '',
            `Latest audit (${formatTime(a.timestamp)})`,
            indent(
              keyValues([
                ['actors', `${a.totalActors} total · ${a.aliveActors} alive · ${a.stoppingActors} stopping · ${a.restartingActors} restarting`],
                ['registry', `${plural(a.registrySize, 'entry', 'entries')} · ${a.registryOrphans.length} orphaned · ${a.registryDead.length} dead`],
                ['dead letters', String(a.deadLettersCount)],
              ]),
            ),
          ]),
    ].join('\n');
    return { exitCode: ExitCode.ok, data: { ...summary, damagedSkipped: damaged.count }, text, ...(damaged.note !== undefined && { note: damaged.note }) };
  },
});
