import type { PersistenceBackend } from '../backend.js';
import { PapyraError } from '../errors.js';
import type { PersistedEvent } from '../records.js';
import { observeEvent, textOf, type ActorSummary } from './actors.js';

export type Decision = 'restart' | 'stop' | 'resume' | 'pending';

export interface TimelineEntry {
  at: number;
  kind: 'started' | 'crashed' | 'restarted' | 'stopped' | 'dead_letter' | 'event';
  /** The event type, or the dead letter's message type. */
  what: string;
  /** For a crash: its error. */
  error?: string;
  /** For a crash: what followed it (the next lifecycle event of the actor). */
  decision?: Decision;
  /** For a stop: its reason; for a dead letter: why it was not delivered. */
  reason?: string;
  /** For a restart: restarts within the policy's window ending here, and the budget. */
  budget?: { used: number; maxRestarts: number; withinMs: number };
  /** For a dead letter: it arrived after the actor had stopped. */
  whileStopped?: boolean;
  /** The storm this entry belongs to (index into `storms`). */
  storm?: number;
}

export interface RestartStorm {
  start: number;
  end: number;
  restarts: number;
  /** The crash that started it. */
  firstCrash: { at: number; error: string | null };
}

export interface ActorExplanation {
  address: string;
  summary: ActorSummary | null;
  /** The supervision policy the events carry (`ActorStarted` payload), else the runtime default. */
  policy: { maxRestarts: number; withinMs: number; recorded: boolean };
  entries: TimelineEntry[];
  storms: RestartStorm[];
}

const DEFAULT_POLICY = { maxRestarts: 3, withinMs: 60_000 };

/**
 * An actor's timeline rebuilt from its stored events and the dead letters addressed to it: each
 * crash with its error and the decision that followed, restarts with the restart budget used in
 * the policy's window, stops with their reason, dead letters while it was stopped, and restart
 * storms (more restarts than the budget within its window) with the crash that began each.
 * Reads only this actor's facts (the `actor`/`target` list filters).
 */
export async function explainActor(backend: PersistenceBackend, address: string, options: { stormThreshold?: number } = {}): Promise<ActorExplanation> {
  if (typeof address !== 'string' || address === '') throw new PapyraError('PAPYRA_INVALID_ARGUMENT', 'explainActor needs an actor address such as "local:3".');
  const [events, deadLetters] = await Promise.all([backend.listEvents({ actor: address }), backend.listDeadLetters({ target: address })]);
  const policy = policyOf(events);
  const threshold = options.stormThreshold ?? policy.maxRestarts;
  const summaries = new Map<string, ActorSummary>();
  for (const e of events) observeEvent(summaries, e);

  const entries: TimelineEntry[] = [];
  let stoppedAt: number | null = null;
  const restartTimes: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.eventType) {
      case 'ActorStarted':
        stoppedAt = null;
        entries.push({ at: e.timestamp, kind: 'started', what: e.eventType });
        break;
      case 'ActorCrashed':
        entries.push({
          at: e.timestamp,
          kind: 'crashed',
          what: e.eventType,
          error: textOf(e.payload['error']) ?? textOf(e.payload['reason']) ?? 'unknown error',
          decision: decisionAfter(events, i),
        });
        break;
      case 'ActorRestarted': {
        restartTimes.push(e.timestamp);
        const used = restartTimes.filter((t) => t > e.timestamp - policy.withinMs).length;
        entries.push({ at: e.timestamp, kind: 'restarted', what: e.eventType, budget: { used, maxRestarts: policy.maxRestarts, withinMs: policy.withinMs } });
        break;
      }
      case 'ActorStopped':
        stoppedAt = e.timestamp;
        entries.push({ at: e.timestamp, kind: 'stopped', what: e.eventType, reason: textOf(e.payload['reason']) ?? 'unknown' });
        break;
      default:
        entries.push({ at: e.timestamp, kind: 'event', what: e.eventType });
    }
  }
  for (const d of deadLetters) {
    const whileStopped = stoppedAt !== null && d.timestamp >= stoppedAt;
    entries.push({ at: d.timestamp, kind: 'dead_letter', what: d.messageType, reason: d.reason, whileStopped });
  }
  entries.sort((a, b) => a.at - b.at);
  // Dead letters are judged against the stops before them, now that the order is known.
  let stopped = false;
  for (const entry of entries) {
    if (entry.kind === 'stopped') stopped = true;
    else if (entry.kind === 'started') stopped = false;
    else if (entry.kind === 'dead_letter') entry.whileStopped = stopped;
  }
  return { address, summary: summaries.get(address) ?? null, policy, entries, storms: findStorms(entries, policy.withinMs, threshold) };
}

function decisionAfter(events: readonly PersistedEvent[], i: number): Decision {
  for (let j = i + 1; j < events.length; j++) {
    switch (events[j]!.eventType) {
      case 'ActorRestarted':
        return 'restart';
      case 'ActorStopped':
        return 'stop';
      case 'ActorCrashed':
        return 'resume'; // it went on handling messages with the same instance
    }
  }
  return 'pending';
}

function policyOf(events: readonly PersistedEvent[]): ActorExplanation['policy'] {
  for (let i = events.length - 1; i >= 0; i--) {
    const s = events[i]!.payload['supervision'];
    if (events[i]!.eventType !== 'ActorStarted' || typeof s !== 'object' || s === null || Array.isArray(s)) continue;
    const { maxRestarts, withinMs } = s as Record<string, unknown>;
    if (typeof maxRestarts === 'number' && typeof withinMs === 'number') return { maxRestarts, withinMs, recorded: true };
  }
  return { ...DEFAULT_POLICY, recorded: false };
}

/**
 * A storm: a run of restarts each within `withinMs` of the one before, at least `threshold` long.
 * Its first crash is the crash just before its first restart.
 */
function findStorms(entries: TimelineEntry[], withinMs: number, threshold: number): RestartStorm[] {
  const storms: RestartStorm[] = [];
  let run: number[] = [];
  const close = () => {
    if (run.length >= Math.max(1, threshold)) {
      const first = run[0]!;
      let crash: TimelineEntry | undefined;
      for (let k = first - 1; k >= 0; k--)
        if (entries[k]!.kind === 'crashed') {
          crash = entries[k];
          break;
        }
      const index = storms.length;
      storms.push({
        start: crash?.at ?? entries[first]!.at,
        end: entries[run[run.length - 1]!]!.at,
        restarts: run.length,
        firstCrash: { at: crash?.at ?? entries[first]!.at, error: crash?.error ?? null },
      });
      const from = crash ? entries.indexOf(crash) : first;
      for (let k = from; k <= run[run.length - 1]!; k++) entries[k]!.storm = index;
    }
    run = [];
  };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.kind === 'stopped') close();
    if (e.kind !== 'restarted') continue;
    if (run.length > 0 && e.at - entries[run[run.length - 1]!]!.at > withinMs) close();
    run.push(i);
  }
  close();
  return storms;
}
