import { ExitCode } from '../errors.js';
import { formatTime, keyValues, plural } from '../format.js';
import { defineCommand } from '../command.js';
import { STARTUP_OPTIONS, describeStartup, indent, startupCheck, startupData, validateStartup } from './persistence.js';
import { storeFigures } from './shared.js';

/** The startup check a service would run, plus an overview of what the store holds. */
export const doctorCommand = defineCommand({
  command: 'run',
  describe: 'Startup check plus an overview of the store (exit codes as startup-check)',
  options: STARTUP_OPTIONS,
  examples: [
    ['$0 doctor run --path ./papyra.ndjson', 'Is this store healthy?'],
    ['$0 doctor run --config ./papyra.config.json --json', 'The same from a config file, as JSON'],
  ],
  validate: validateStartup,
  async run(ctx, args) {
    const out = await startupCheck(ctx, args);
    const stats = await storeFigures(ctx);
    const { lines, hint } = describeStartup(out, ctx, args.recoveryMode);
    const caps = Object.entries(ctx.backend.capabilities);
    const healthy = out.exitCode === ExitCode.ok;
    const text = [
      `Papyra doctor: ${ctx.store}`,
      indent(
        keyValues([
          ...(ctx.storeInfo['exists'] === false
            ? [['store', 'does not exist: read as an empty store (--require-existing fails instead)'] as [string, string]]
            : []),
          ['check', `startup check, mode ${args.mode}`],
          [
            'records',
            [plural(stats.events.records, 'event'), plural(stats.audits.records, 'audit'), plural(stats.deadLetters.records, 'dead letter')].join(' · '),
          ],
          ['time span', `${formatTime(stats.total.oldest)} → ${formatTime(stats.total.newest)}`],
          [
            'capabilities',
            caps
              .filter(([, v]) => v)
              .map(([k]) => k)
              .join(', ') || 'none',
          ],
        ]),
      ),
      ...lines.map((l) => indent(l)),
      healthy ? 'Healthy.' : 'Unhealthy.',
    ].join('\n');
    return {
      exitCode: out.exitCode,
      // One health verdict: `healthy` (startup-check's `ok` would say the same).
      data: { healthy, ...startupData(out, false), capabilities: ctx.backend.capabilities, stats },
      text,
      ...(hint !== undefined && { hint }),
    };
  },
});
