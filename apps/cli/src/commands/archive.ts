import { resolve } from 'node:path';
import type { RecordKind } from '@papyra/persistence-contract';
import { diffSources, exportArchive, importArchive, verifyArchive } from '@papyra/persistence-contract/archive';
import { defineCommand } from '../command.js';
import { parseSince } from '../duration.js';
import { ExitCode, usageError } from '../errors.js';
import { plural, table } from '../format.js';
import type { CommandResult } from '../run.js';
import { VERSION } from '../version.js';

/* Backup, restore and comparison: each command calls one function of the contract's archive module. */

const KINDS: Record<string, RecordKind> = { events: 'event', audits: 'audit', 'dead-letters': 'dead_letter' };

function kindsOf(names: readonly string[] | undefined): RecordKind[] | undefined {
  if (names === undefined || names.length === 0) return undefined;
  return names.map((name) => {
    const kind = KINDS[name];
    if (!kind) throw usageError(`--kind must be events, audits or dead-letters, got ${JSON.stringify(name)}.`);
    return kind;
  });
}

export const exportCommand = defineCommand({
  command: 'export',
  describe: 'Write the store to a portable archive: NDJSON per kind and a manifest with counts and sha256',
  options: {
    out: { type: 'string', demandOption: true, describe: 'The archive directory to create (must be new or empty)' },
    since: { type: 'string', describe: 'Only records at or after: epoch ms, ISO-8601, or a duration ago (7d)' },
    until: { type: 'string', describe: 'Only records before: epoch ms, ISO-8601, or a duration ago' },
    kind: { type: 'array', string: true, describe: 'Only these kinds: events, audits, dead-letters' },
  },
  examples: [
    ['$0 export --out ./backup --path ./papyra.ndjson', 'Back up a file store'],
    ['$0 export --out ./last-week --since 7d --kind events --backend redis --redis-url redis://localhost:6379', 'The last week of events'],
  ],
  interruptible: true,
  async run(ctx, args) {
    const kinds = kindsOf(args.kind as string[] | undefined);
    const dir = resolve(ctx.cwd, args.out);
    const since = args.since === undefined ? undefined : parseSince(args.since, ctx.now());
    const until = args.until === undefined ? undefined : parseSince(args.until, ctx.now());
    const manifest = await exportArchive(ctx.backend, dir, {
      ...(kinds && { kinds }),
      ...(since !== undefined && { since }),
      ...(until !== undefined && { until }),
      signal: ctx.signal,
      source: { ...ctx.storeInfo },
      tool: { name: '@papyra/cli', version: VERSION },
      onProgress: ({ records }) => ctx.progress.onProgress?.({ phase: 'export', processed: records, total: null, unit: 'records' }),
    });
    const rows = Object.entries(manifest.files).map(([file, f]) => [
      file,
      f.records.toLocaleString('en-US'),
      f.bytes.toLocaleString('en-US'),
      f.sha256.slice(0, 16),
    ]);
    const text = [
      `Exported ${plural(manifest.totals.records, 'record')} from ${ctx.store} to ${dir}`,
      '',
      table([{ header: 'file' }, { header: 'records', align: 'right' }, { header: 'bytes', align: 'right' }, { header: 'sha256' }], rows),
    ].join('\n');
    return { exitCode: ExitCode.ok, data: { archive: dir, manifest }, text, hint: `check it any time with: papyra verify ${dir}` };
  },
});

export const importCommand = defineCommand({
  command: 'import <archive>',
  describe: 'Restore an archive into the store, keeping ids and timestamps (resumable and idempotent with --journal)',
  options: {
    'dry-run': { type: 'boolean', describe: 'Say what would be written; write nothing' },
    journal: { type: 'string', describe: 'Progress file: an interrupted import resumes from it, and a second run writes nothing' },
  },
  examples: [
    ['$0 import ./backup --journal ./restore.journal --path ./restored.ndjson', 'Restore into a file store'],
    ['$0 import ./backup --dry-run --backend postgres --database-url postgres://localhost/app', 'What would be written'],
  ],
  interruptible: true,
  async run(ctx, args) {
    const dir = resolve(ctx.cwd, String(args.archive));
    const journal = args.journal === undefined ? undefined : resolve(ctx.cwd, args.journal);
    const report = await importArchive(dir, ctx.backend, {
      ...(args.dryRun && { dryRun: true }),
      ...(journal && { journal }),
      signal: ctx.signal,
      onProgress: ({ written }) => ctx.progress.onProgress?.({ phase: 'import', processed: written, total: null, unit: 'records' }),
    });
    const text = [
      `${report.dryRun ? 'Would write' : 'Wrote'} ${plural(report.written, 'record')} from ${dir} to ${ctx.store}`,
      `  events ${report.byKind.event.toLocaleString('en-US')}, audits ${report.byKind.audit.toLocaleString('en-US')}, dead letters ${report.byKind.dead_letter.toLocaleString('en-US')}`,
      ...(report.skipped > 0 ? [`  ${plural(report.skipped, 'record')} already imported by an earlier run (journal ${journal})`] : []),
      ...(report.alreadyPresent > 0 ? [`  ${plural(report.alreadyPresent, 'record')} of an interrupted batch were already in the store`] : []),
    ].join('\n');
    return {
      exitCode: ExitCode.ok,
      data: { archive: dir, ...report },
      text,
      ...(!journal && !report.dryRun && { hint: 'pass --journal FILE to make an interrupted import resume (and a second run write nothing).' }),
    };
  },
});

/** `papyra verify <archive>`: checks an archive; opens no store. */
export async function verifyResult(archive: string, cwd: string): Promise<CommandResult> {
  const dir = resolve(cwd, archive);
  const result = await verifyArchive(dir);
  const lines = result.ok
    ? [`The archive ${dir} is intact: ${plural(result.records, 'record')}; every sha256 and count matches its manifest.`]
    : [
        `The archive ${dir} is damaged: ${plural(result.problems.length, 'problem')}`,
        ...result.problems.slice(0, 20).map((p) => `  ${p.file}${p.line === null ? '' : `:${p.line}`} ${p.detail}`),
      ];
  return { exitCode: result.ok ? ExitCode.ok : ExitCode.anomalies, data: { archive: dir, ...result }, text: lines.join('\n') };
}

export const diffCommand = defineCommand({
  command: 'diff',
  describe: 'Compare the store with an archive by id and content (exit 0 equal, 2 different)',
  options: {
    archive: { type: 'string', demandOption: true, describe: 'The archive directory to compare with' },
  },
  examples: [['$0 diff --archive ./backup --path ./papyra.ndjson', 'Does the store still match its backup?']],
  interruptible: true,
  async run(ctx, args) {
    const dir = resolve(ctx.cwd, args.archive);
    const report = await diffSources(ctx.backend, { archive: dir }, { signal: ctx.signal });
    const reason = { content: 'content differs', 'only-left': 'only in the store', 'only-right': 'only in the archive' } as const;
    const lines = report.equal
      ? [`${ctx.store} and ${dir} hold the same records.`]
      : [
          `${ctx.store} and ${dir} differ: ${plural(report.differences, 'record')}`,
          table(
            [{ header: 'kind' }, { header: 'id' }, { header: 'timestamp' }, { header: 'difference' }],
            report.first.map((d) => [d.kind, d.id ?? '-', new Date(d.timestamp).toISOString(), reason[d.reason]]),
          ),
        ];
    return { exitCode: report.equal ? ExitCode.ok : ExitCode.anomalies, data: { archive: dir, ...report }, text: lines.join('\n') };
  },
});
