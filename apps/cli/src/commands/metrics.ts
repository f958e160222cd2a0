import { ExitCode } from '../errors.js';
import { defineCommand } from '../command.js';
import { counterLines, indent, statsTable } from './persistence.js';
import { damagedSkipped, storeFigures } from './shared.js';

const SCOPE_NOTE =
  'These counters belong to this papyra process. A running service keeps its own: export them from that process (backend.metrics.snapshot(), or @papyra/opentelemetry).';

export const metricsCommand = defineCommand({
  command: 'persistence',
  describe: 'Records and bytes per kind, oldest and newest record, and this process’s counters',
  examples: [['$0 metrics persistence --path ./papyra.ndjson --json', 'Store figures as JSON']],
  async run(ctx) {
    const stored = await storeFigures(ctx);
    const damaged = await damagedSkipped(ctx);
    const counters = ctx.backend.metrics.snapshot();
    const text = [`Stored in ${ctx.store}`, statsTable(stored), '', 'Counters of this papyra process:', indent(counterLines(counters)), '', SCOPE_NOTE].join(
      '\n',
    );
    return {
      exitCode: ExitCode.ok,
      data: { backend: ctx.backend.name, stored, damagedSkipped: damaged.count, process: counters, note: SCOPE_NOTE },
      text,
      ...(damaged.note !== undefined && { note: damaged.note }),
    };
  },
});

const RESET_NOTE =
  'A CLI process can only reset its own counters. To reset a running service, call backend.metrics.reset() in that process; the store itself is unchanged.';

export const metricsResetCommand = defineCommand({
  command: 'reset',
  describe: 'Reset the counters (of this process: a CLI cannot reach a running service’s)',
  examples: [['$0 metrics reset --path ./papyra.ndjson', 'Reset and explain the scope']],
  async run(ctx) {
    ctx.backend.metrics.reset();
    return {
      exitCode: ExitCode.ok,
      data: { backend: ctx.backend.name, reset: true, scope: 'process', note: RESET_NOTE },
      text: `Reset the persistence counters of this papyra process (${ctx.store}).\n${RESET_NOTE}`,
    };
  },
});
