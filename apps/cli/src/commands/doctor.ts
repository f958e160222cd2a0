import { ExitCode } from '../errors.js';
import { formatTime, keyValues, plural } from '../format.js';
import type { Command } from '../run.js';
import { storeStats } from '../stats.js';
import { describeStartup, indent, startupCheck, startupData, validateStartup, type StartupArgs } from './persistence.js';
import { readAll } from './shared.js';

/** The startup check a service would run, plus an overview of what the store holds. */
export const doctorCommand: Command<StartupArgs> = {
  validate: validateStartup,
  async run(ctx, args) {
    const out = await startupCheck(ctx, args);
    const stats = storeStats(await readAll(ctx.backend));
    const { lines, hint } = describeStartup(out, ctx, args.recoveryMode);
    const caps = Object.entries(ctx.backend.capabilities);
    const healthy = out.exitCode === ExitCode.ok;
    const text = [
      `Papyra doctor: ${ctx.store}`,
      indent(
        keyValues([
          ['check', `startup check, mode ${args.mode}`],
          ['records', [plural(stats.events.records, 'event'), plural(stats.audits.records, 'audit'), plural(stats.deadLetters.records, 'dead letter')].join(' · ')],
          ['time span', `${formatTime(stats.total.oldest)} → ${formatTime(stats.total.newest)}`],
          ['capabilities', caps.filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'],
        ]),
      ),
      ...lines.map((l) => indent(l)),
      healthy ? 'Healthy.' : 'Unhealthy.',
    ].join('\n');
    return {
      exitCode: out.exitCode,
      data: { store: ctx.store, healthy, ...startupData(out), capabilities: ctx.backend.capabilities, stats },
      text,
      ...(hint !== undefined && { hint }),
    };
  },
};
