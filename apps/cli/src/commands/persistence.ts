import {
  STARTUP_MODES,
  checkStartup,
  hasRetention,
  type PersistedRecord,
  type RecoveryConfig,
  type RecoveryReport,
  type ScanReport,
  type StartupMode,
} from '@papyra/persistence-contract';
import { resolve } from 'node:path';
import { ExitCode, configError } from '../errors.js';
import { brief, formatBytes, formatCount, formatDuration, formatTime, keyValues, plural, table } from '../format.js';
import { defineCommand, integerFlag, type CommandArgs } from '../command.js';
import type { CommandContext, CommandResult } from '../run.js';
import type { StoreStats } from '../stats.js';
import { anomalyCount, anomalyLines, damagedSkipped, damagedUnit, operation, repairHint, requireCapability, storeFigures } from './shared.js';

export const scanCommand = defineCommand({
  command: 'scan',
  describe: 'Read-only scan for corruption (exit 0 clean, 2 anomalies)',
  examples: [
    ['$0 persistence scan --path ./papyra.ndjson', 'Scan an NDJSON file'],
    ['$0 persistence scan --backend redis --redis-url redis://localhost:6379 --json', 'Scan Redis streams, JSON report'],
  ],
  interruptible: true,
  async run(ctx) {
    requireCapability(ctx.backend, 'scan', 'scan');
    const report = await ctx.backend.scan(operation(ctx));
    const clean = report.anomalies.length === 0;
    const text = [`Scanned ${ctx.store}: ${clean ? 'clean, no anomalies.' : `${anomalyCount(report)}.`}`, ...anomalyLines(report)].join('\n');
    return {
      exitCode: clean ? ExitCode.ok : ExitCode.anomalies,
      data: { backend: report.backend, clean, anomalies: report.anomalies },
      text,
      ...(!clean && { hint: repairHint(ctx.storeArgs) }),
    };
  },
});

export const recoverCommand = defineCommand({
  command: 'recover',
  describe: 'Repair the store, or quarantine what is removed (exit 0 clean afterwards, 2 anomalies remain)',
  options: {
    mode: {
      type: 'string',
      choices: ['repair', 'quarantine', 'ignore'],
      demandOption: true,
      describe: 'repair: drop what the scan flagged; quarantine: keep its original bytes first; ignore: report only',
    },
    'quarantine-dir': { type: 'string', describe: 'Where quarantine keeps the removed bytes (required for quarantine)' },
  },
  examples: [
    ['$0 persistence recover --mode repair --path ./papyra.ndjson', 'Remove damaged lines, keep every valid record'],
    ['$0 persistence recover --mode quarantine --quarantine-dir ./quarantine --path ./papyra.ndjson', 'The same, keeping the original bytes'],
  ],
  interruptible: true,
  validate(args) {
    if (args.mode === 'quarantine' && !args.quarantineDir) {
      throw configError('--mode quarantine needs --quarantine-dir DIR: the original bytes of everything removed are kept there.');
    }
  },
  async run(ctx, args) {
    requireCapability(ctx.backend, args.mode === 'quarantine' ? 'quarantine' : 'recover', `recover --mode ${args.mode}`);
    const config: RecoveryConfig = { mode: args.mode, ...(args.quarantineDir && { quarantineDir: resolve(args.quarantineDir) }) };
    const report = await ctx.backend.recover(config, operation(ctx));
    const clean = report.postScan.anomalies.length === 0;
    return {
      exitCode: clean ? ExitCode.ok : ExitCode.anomalies,
      data: { clean, ...report },
      text: [
        `Recovery (${report.mode}) of ${ctx.store}: ${clean ? 'the store is clean.' : `${remaining(report.postScan.anomalies.length)}.`}`,
        recoveryLines(report),
      ].join('\n'),
      ...(!clean && { hint: recoverHint(report, ctx) }),
    };
  },
});

const remaining = (n: number) => `${plural(n, 'anomaly', 'anomalies')} ${n === 1 ? 'remains' : 'remain'}`;

function recoverHint(report: RecoveryReport, ctx: CommandContext): string {
  if (report.mode === 'ignore') return repairHint(ctx.storeArgs);
  // Repair never deletes a file that is not the store's own; quarantine moves it aside.
  if (report.mode === 'repair' && ctx.backend.capabilities.quarantine && report.postScan.anomalies.every((a) => a.type === 'ORPHANED_ROTATED_FILE')) {
    return `repair leaves files that are not part of the store where they are; move them aside with papyra persistence recover --mode quarantine --quarantine-dir DIR ${ctx.storeArgs}, or delete them yourself.`;
  }
  return `run papyra persistence scan ${ctx.storeArgs} to see what remains; recovery cannot remove it.`;
}

export function recoveryLines(report: RecoveryReport): string {
  const pairs: [string, string][] = [
    ['before', anomalyCount(report.scan)],
    ['kept', plural(report.keptRecords, 'record')],
    // What recovery drops are lines (entries, rows) that were not readable records: not data loss.
    ['removed', plural(report.droppedRecords, `damaged ${damagedUnit(report.backend)}`, `damaged ${damagedUnit(report.backend, true)}`)],
    ...report.repairedFiles.map((f): [string, string] => ['repaired', f]),
    ...report.quarantinedFiles.map((f): [string, string] => ['quarantined', f]),
    ['after', report.postScan.anomalies.length === 0 ? 'clean' : anomalyCount(report.postScan)],
  ];
  const lines = keyValues(pairs)
    .split('\n')
    .map((l) => `  ${l}`);
  if (report.postScan.anomalies.length > 0) lines.push(...anomalyLines(report.postScan, '    '));
  else if (report.scan.anomalies.length > 0) lines.push('  removed:', ...anomalyLines(report.scan, '    '));
  return lines.join('\n');
}

export const compactCommand = defineCommand({
  command: 'compact',
  describe: 'Apply retention physically and print the report',
  examples: [
    ['$0 persistence compact --path ./papyra.ndjson --max-age 7d', 'Drop records older than a week'],
    ['$0 persistence compact --path ./papyra.ndjson --max-records 10000', 'Keep the newest 10,000 records of each kind'],
  ],
  interruptible: true,
  async run(ctx) {
    requireCapability(ctx.backend, 'compact', 'compact');
    const report = await ctx.backend.compact(operation(ctx));
    const text = [
      `Compacted ${ctx.store}.`,
      keyValues([
        ['records', `${formatCount(report.beforeRecords)} → ${formatCount(report.afterRecords)} (${formatCount(report.removedRecords)} removed)`],
        ['bytes', `${formatBytes(report.beforeBytes)} → ${formatBytes(report.afterBytes)} (${formatBytes(report.reclaimedBytes)} reclaimed)`],
        ['retention', retentionText(ctx)],
      ])
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    ].join('\n');
    return {
      exitCode: ExitCode.ok,
      data: { retention: ctx.backend.retention, ...report },
      text,
      ...(!hasRetention(ctx.backend.retention) && {
        hint: 'no retention is configured, so compaction keeps every record; pass --max-records, --max-age or --max-total-bytes.',
      }),
    };
  },
});

function retentionText(ctx: CommandContext): string {
  const r = ctx.backend.retention;
  const parts = [
    r.maxRecords !== undefined && `max ${formatCount(r.maxRecords)} records per kind`,
    r.maxAgeMs !== undefined && `max age ${formatDuration(r.maxAgeMs)}`,
    r.maxTotalBytes !== undefined && `max ${formatCount(r.maxTotalBytes)} bytes per kind`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'none';
}

export const inspectStoreCommand = defineCommand({
  command: 'inspect',
  describe: 'Backend, capabilities, record counts and the newest records of each kind',
  options: {
    limit: { type: 'string', default: '5', defaultDescription: '5', coerce: integerFlag('--limit', 0), describe: 'Newest records shown per kind' },
    'show-metrics': { type: 'boolean', describe: "Also show this process's persistence counters" },
  },
  examples: [['$0 persistence inspect --path ./papyra.ndjson --limit 3', 'Overview with the 3 newest records of each kind']],
  async run(ctx, args) {
    const stats = await storeFigures(ctx);
    const damaged = await damagedSkipped(ctx);
    // The backends' own `limit`: the newest N, oldest first, without reading everything.
    const newest = async <T extends PersistedRecord>(list: (q: { limit: number }) => Promise<T[]>) => (args.limit === 0 ? [] : list({ limit: args.limit }));
    const latest = {
      events: await newest((q) => ctx.backend.listEvents(q)),
      audits: await newest((q) => ctx.backend.listAudits(q)),
      deadLetters: await newest((q) => ctx.backend.listDeadLetters(q)),
    };
    const caps = Object.entries(ctx.backend.capabilities);
    const lines = [
      `Store ${ctx.store}`,
      indent(
        keyValues([
          ['backend', ctx.backend.name],
          [
            'can',
            caps
              .filter(([, v]) => v)
              .map(([k]) => k)
              .join(', ') || 'nothing',
          ],
          [
            'cannot',
            caps
              .filter(([, v]) => !v)
              .map(([k]) => k)
              .join(', ') || '-',
          ],
          ['retention', retentionText(ctx)],
        ]),
      ),
      '',
      statsTable(stats),
    ];
    for (const [title, records] of [
      ['events', latest.events],
      ['audits', latest.audits],
      ['dead letters', latest.deadLetters],
    ] as const) {
      if (records.length === 0) continue;
      lines.push(
        '',
        `Newest ${plural(records.length, title.replace(/s$/, ''), title)}:`,
        ...records.map((r) => `  ${formatTime(r.timestamp)}  ${recordLine(r)}`),
      );
    }
    const data: Record<string, unknown> = {
      backend: ctx.backend.name,
      capabilities: ctx.backend.capabilities,
      retention: ctx.backend.retention,
      stats,
      damagedSkipped: damaged.count,
      latest,
    };
    if (args.showMetrics) {
      const metrics = ctx.backend.metrics.snapshot();
      data['metrics'] = metrics;
      lines.push('', 'Counters of this papyra process:', indent(counterLines(metrics)));
    }
    return { exitCode: ExitCode.ok, data, text: lines.join('\n'), ...(damaged.note !== undefined && { note: damaged.note }) };
  },
});

function recordLine(r: PersistedRecord): string {
  switch (r.kind) {
    case 'event':
      return `${r.actorAddress ?? '-'}  ${r.eventType}  ${brief(r.payload)}`;
    case 'audit':
      return `${r.totalActors} actors, ${r.aliveActors} alive, ${r.deadLettersCount} dead letters`;
    case 'dead_letter':
      return `${r.target ?? '-'}  ${r.messageType}  ${brief(r.payload)}`;
  }
}

export function statsTable(stats: StoreStats): string {
  const row = (name: string, s: StoreStats['total']) => [name, formatCount(s.records), formatBytes(s.bytes), formatTime(s.oldest), formatTime(s.newest)];
  return table(
    [{ header: 'KIND' }, { header: 'RECORDS', align: 'right' }, { header: 'BYTES', align: 'right' }, { header: 'OLDEST' }, { header: 'NEWEST' }],
    [row('events', stats.events), row('audits', stats.audits), row('dead letters', stats.deadLetters), row('total', stats.total)],
  );
}

export function counterLines(m: ReturnType<CommandContext['backend']['metrics']['snapshot']>): string {
  const counters = Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number');
  return keyValues([
    ...counters.map(([k, v]): [string, string] => [k, String(v)]),
    [
      'writeLatencyMs',
      `p50 ${m.writeLatencyMs.p50} · p90 ${m.writeLatencyMs.p90} · p99 ${m.writeLatencyMs.p99} · max ${m.writeLatencyMs.max} (${m.writeLatencyMs.count} writes)`,
    ],
  ]);
}

export const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');

/** The options of startup-check and doctor run. */
export const STARTUP_OPTIONS = {
  mode: { type: 'string', choices: STARTUP_MODES, default: 'fail_on_anomaly' as StartupMode, describe: 'What the check does with anomalies' },
  'recovery-mode': {
    type: 'string',
    choices: ['repair', 'quarantine'],
    default: 'repair' as 'repair' | 'quarantine',
    describe: 'Recovery used by --mode recover',
  },
  'quarantine-dir': { type: 'string', describe: 'Where quarantine keeps the removed bytes' },
} as const;
export type StartupArgs = CommandArgs<typeof STARTUP_OPTIONS>;

export type StartupOutcome = 'ok' | 'anomalies' | 'recovery_incomplete';

export interface StartupOutput {
  outcome: StartupOutcome;
  exitCode: number;
  mode: StartupMode;
  skipped: boolean;
  scan: ScanReport | null;
  recovery: RecoveryReport | null;
}

export function validateStartup(args: StartupArgs): void {
  if (args.mode === 'recover' && args.recoveryMode === 'quarantine' && !args.quarantineDir) {
    throw configError('--recovery-mode quarantine needs --quarantine-dir DIR: the original bytes of everything removed are kept there.');
  }
}

/** Runs the startup check a service would, as a value: a diagnosis logs no "refusing to start". */
export async function startupCheck(ctx: CommandContext, args: StartupArgs): Promise<StartupOutput> {
  const recovery: RecoveryConfig = { mode: args.recoveryMode, ...(args.quarantineDir && { quarantineDir: resolve(args.quarantineDir) }) };
  const out = await checkStartup(ctx.backend, { mode: args.mode, recovery, logger: ctx.logger });
  if (out.ok) return { outcome: 'ok', exitCode: ExitCode.ok, mode: out.mode, skipped: out.skipped, scan: out.scan, recovery: out.recovery };
  if (out.code === 'PAPYRA_STARTUP_ANOMALIES') {
    return { outcome: 'anomalies', exitCode: ExitCode.failed, mode: out.mode, skipped: false, scan: out.scan, recovery: null };
  }
  return { outcome: 'recovery_incomplete', exitCode: ExitCode.anomalies, mode: out.mode, skipped: false, scan: out.scan, recovery: out.recovery };
}

/** The human account of a startup check, and the next step when it failed. */
export function describeStartup(out: StartupOutput, ctx: CommandContext, recoveryMode: string): { lines: string[]; hint?: string } {
  if (out.skipped) return { lines: [`The ${ctx.backend.name} backend cannot scan; nothing was checked.`] };
  const scan = out.scan!;
  switch (out.outcome) {
    case 'ok': {
      if (out.recovery) {
        return { lines: [`Passed after recovery (${out.recovery.mode}).`, recoveryLines(out.recovery)] };
      }
      if (scan.anomalies.length === 0) return { lines: ['Passed: the store is clean.'] };
      const what = out.mode === 'scan_only' ? 'reported, nothing changed' : 'ignored';
      return {
        lines: [`Passed with ${anomalyCount(scan)} (${what}, mode ${out.mode}):`, ...anomalyLines(scan)],
        hint: repairHint(ctx.storeArgs),
      };
    }
    case 'anomalies':
      return {
        lines: [`Failed: ${anomalyCount(scan)}; a service checking with mode ${out.mode} would refuse to start.`, ...anomalyLines(scan)],
        hint: `${repairHint(ctx.storeArgs).replace(/\.$/, '')}, or check with --mode recover.`,
      };
    case 'recovery_incomplete':
      return {
        lines: [`Failed: recovery (${recoveryMode}) left anomalies in the store.`, ...(out.recovery ? [recoveryLines(out.recovery)] : anomalyLines(scan))],
        hint: `run papyra persistence scan ${ctx.storeArgs} and inspect what remains; it needs a manual fix.`,
      };
  }
}

export const startupCheckCommand = defineCommand({
  command: 'startup-check',
  describe: 'Run the startup check a service would (exit 0 ok, 1 anomalies, 2 recovery incomplete)',
  options: STARTUP_OPTIONS,
  examples: [
    ['$0 persistence startup-check --path ./papyra.ndjson', 'Fail (exit 1) on any anomaly'],
    ['$0 persistence startup-check --path ./papyra.ndjson --mode recover', 'Repair, then require a clean post-scan'],
  ],
  validate: validateStartup,
  async run(ctx, args): Promise<CommandResult> {
    const out = await startupCheck(ctx, args);
    const { lines, hint } = describeStartup(out, ctx, args.recoveryMode);
    return {
      exitCode: out.exitCode,
      data: { ...startupData(out) },
      text: [`Startup check (${args.mode}) of ${ctx.store}`, ...lines].join('\n'),
      ...(hint !== undefined && { hint }),
    };
  },
});

export function startupData(out: StartupOutput, withOk = true): Record<string, unknown> {
  return {
    mode: out.mode,
    outcome: out.outcome,
    ...(withOk && { ok: out.exitCode === ExitCode.ok }),
    skipped: out.skipped,
    scan: out.scan,
    recovery: out.recovery,
  };
}
