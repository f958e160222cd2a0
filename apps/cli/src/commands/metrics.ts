import { ExitCode } from '../errors.js';
import type { Command } from '../run.js';
import { storeStats } from '../stats.js';
import { counterLines, indent, statsTable } from './persistence.js';
import { readAll } from './shared.js';

const SCOPE_NOTE =
  'These counters belong to this papyra process. A running service keeps its own: export them from that process (backend.metrics.snapshot(), or @papyra/opentelemetry).';

export const metricsCommand: Command<Record<string, unknown>> = {
  async run(ctx) {
    const stored = storeStats(await readAll(ctx.backend));
    const counters = ctx.backend.metrics.snapshot();
    const text = [`Stored in ${ctx.store}`, statsTable(stored), '', 'Counters of this papyra process:', indent(counterLines(counters)), '', SCOPE_NOTE].join('\n');
    return { exitCode: ExitCode.ok, data: { store: ctx.store, backend: ctx.backend.name, stored, process: counters, note: SCOPE_NOTE }, text };
  },
};

const RESET_NOTE =
  'A CLI process can only reset its own counters. To reset a running service, call backend.metrics.reset() in that process; the store itself is unchanged.';

export const metricsResetCommand: Command<Record<string, unknown>> = {
  async run(ctx) {
    ctx.backend.metrics.reset();
    return {
      exitCode: ExitCode.ok,
      data: { store: ctx.store, backend: ctx.backend.name, reset: true, scope: 'process', note: RESET_NOTE },
      text: `Reset the persistence counters of this papyra process (${ctx.store}).\n${RESET_NOTE}`,
    };
  },
};
