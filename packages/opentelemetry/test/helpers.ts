import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';

/** A reader collected by hand: no timers, exact control over when callbacks run. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface Point {
  attributes: Attributes;
  value: number | Histogram;
}

export interface Collected {
  points(name: string): Point[];
  unit(name: string): string | undefined;
  /** The value of the counter point whose attributes include `match`. */
  value(name: string, match?: Attributes): number | undefined;
  /** The histogram point whose attributes include `match`. */
  histogram(name: string, match?: Attributes): Histogram | undefined;
  names(): string[];
}

export function testMeterProvider(): { provider: MeterProvider; collect: () => Promise<Collected> } {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<Collected> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    const byName = new Map<string, { unit: string; points: Point[] }>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        const points = (metric.dataPoints as DataPoint<number | Histogram>[]).map((p) => ({ attributes: p.attributes, value: p.value }));
        byName.set(metric.descriptor.name, { unit: metric.descriptor.unit, points });
      }
    }
    const find = (name: string, match: Attributes = {}) => byName.get(name)?.points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
    return {
      points: (name) => byName.get(name)?.points ?? [],
      unit: (name) => byName.get(name)?.unit,
      value: (name, match) => find(name, match)?.value as number | undefined,
      histogram: (name, match) => find(name, match)?.value as Histogram | undefined,
      names: () => [...byName.keys()].sort(),
    };
  };
  return { provider, collect };
}
