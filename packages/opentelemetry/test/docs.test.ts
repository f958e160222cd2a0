import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { PAPYRA_INSTRUMENTS, prometheusName } from '@papyra/persistence-contract';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const instruments = Object.values(PAPYRA_INSTRUMENTS);

/** Every series name an instrument can appear under in Prometheus. */
const exposed = new Set(
  instruments.flatMap((i) => {
    const name = prometheusName(i);
    return i.kind === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
  }),
);
const referenced = (text: string) =>
  [...new Set(text.match(/\bpapyra_[a-z_]+\b/g) ?? [])].filter(
    (n) => !n.startsWith('papyra_system_id') && !/^papyra_(actor_state|record_kind|drop_reason|anomaly_type|backend|store)$/.test(n),
  );

describe('documentation and dashboards stay true to PAPYRA_INSTRUMENTS', () => {
  it('the README table lists exactly the instruments, with kind, unit and Prometheus name', () => {
    const readme = read('../README.md');
    const rows = readme.split('\n').filter((line) => /^\| `papyra\./.test(line));
    expect(rows.map((row) => row.split('`')[1]).sort()).toEqual(instruments.map((i) => i.name).sort());
    for (const i of instruments) {
      const row = rows.find((r) => r.startsWith(`| \`${i.name}\` |`))!;
      expect(row).toContain(`\`${i.unit}\``);
      expect(row).toContain(`\`${prometheusName(i)}\``);
    }
  });

  it('no instrument name uses a pluralised namespace', () => {
    for (const i of instruments) {
      const namespaces = i.name.split('.').slice(0, -1);
      for (const ns of namespaces) expect({ name: i.name, plural: /s$/.test(ns) && ns !== 'papyra' }).toEqual({ name: i.name, plural: false });
    }
  });

  it('the Grafana dashboard is valid JSON and every metric it queries exists', () => {
    const dashboard = JSON.parse(read('../../../examples/prometheus/grafana-dashboard.json')) as { panels: { targets: { expr: string }[] }[] };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    const names = referenced(exprs);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect({ name, exists: exposed.has(name) }).toEqual({ name, exists: true });
  });

  it('every metric the Prometheus alert rules use exists', () => {
    const rules = read('../../../examples/prometheus/alerts.yml');
    const exprs = rules
      .split('\n')
      .filter((line) => /^\s+expr:/.test(line))
      .join('\n');
    const names = referenced(exprs);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect({ name, exists: exposed.has(name) }).toEqual({ name, exists: true });
  });
});
