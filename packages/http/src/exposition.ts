/** One metric family, format-neutral. */
export interface Family {
  /** The exposition name (`prometheusName`): counters end in `_total`. */
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  samples: Sample[];
}

export interface Sample {
  /** Appended to the family name: `_bucket`, `_sum`, `_count` for histograms. */
  suffix?: string;
  labels: Record<string, string>;
  value: number;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** True when the `Accept` header asks for OpenMetrics (with a non-zero quality). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim().toLowerCase() !== 'application/openmetrics-text') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** Prometheus text exposition 0.0.4, or OpenMetrics 1.0 (counter families without `_total`, `# EOF`). */
export function render(families: readonly Family[], openMetrics: boolean): string {
  const out: string[] = [];
  for (const f of families) {
    // OpenMetrics names a counter family without the `_total` its samples carry.
    const familyName = openMetrics && f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    out.push(`# HELP ${familyName} ${escapeHelp(f.help)}`, `# TYPE ${familyName} ${f.type}`);
    for (const s of f.samples) out.push(`${f.name}${s.suffix ?? ''}${labels(s.labels)} ${number(s.value)}`);
  }
  if (openMetrics) out.push('# EOF');
  return out.join('\n') + '\n';
}

function labels(set: Record<string, string>): string {
  const pairs = Object.entries(set).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function number(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
