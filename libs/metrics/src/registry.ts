import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A process' metrics on prom-client: its counters, gauges and histograms (registered once by
 * name, so several brokers in one process share a family and differ by their labels),
 * collectors that compute families at scrape time (lag read from a cluster, say), and Node's
 * own process metrics. Rendered in Prometheus' text exposition format (version 0.0.4).
 * Hot paths bind their label values once with `labels(...)` and keep the child.
 */

export type { Counter, Gauge, Histogram } from 'prom-client';

export type Labels = Readonly<Record<string, string | number>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** A gauge family computed by a collector at scrape time. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge';
  readonly samples: readonly Sample[];
}

export type Collector = () => MetricFamily[] | Promise<MetricFamily[]>;

interface MetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, ascending; +Inf is added. */
  readonly buckets?: readonly number[];
}

/** Latency buckets in seconds, 0.5 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

type MetricType = 'counter' | 'gauge' | 'histogram';

export class MetricsRegistry {
  private readonly registry = new Registry();
  private readonly registered = new Map<string, { type: MetricType; labelNames: readonly string[] }>();
  private readonly collectors: Collector[] = [];
  private processMetrics = false;

  counter(options: MetricOptions): Counter {
    return this.register(
      options,
      'counter',
      (labelNames) => new Counter({ ...this.base(options), labelNames }),
    );
  }

  gauge(options: MetricOptions): Gauge {
    return this.register(options, 'gauge', (labelNames) => new Gauge({ ...this.base(options), labelNames }));
  }

  histogram(options: HistogramOptions): Histogram {
    return this.register(
      options,
      'histogram',
      (labelNames) =>
        new Histogram({
          ...this.base(options),
          labelNames,
          buckets: [...(options.buckets ?? LATENCY_BUCKETS)],
        }),
    );
  }

  private base(options: MetricOptions): { name: string; help: string; registers: Registry[] } {
    return { name: options.name, help: options.help, registers: [this.registry] };
  }

  /**
   * Registering a name again returns the metric already there; a different type or label set
   * is an error. prom-client checks the names.
   */
  private register<M extends Counter | Gauge | Histogram>(
    options: MetricOptions,
    type: MetricType,
    create: (labelNames: string[]) => M,
  ): M {
    const labelNames = [...(options.labelNames ?? [])];
    const existing = this.registered.get(options.name);
    if (existing !== undefined) {
      if (existing.type !== type || existing.labelNames.join(',') !== labelNames.join(','))
        throw new Error(
          `metric ${options.name} is already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`,
        );
      return this.registry.getSingleMetric(options.name) as M;
    }
    const metric = create(labelNames);
    this.registered.set(options.name, { type, labelNames });
    return metric;
  }

  /**
   * Adds the process' own metrics, once: prom-client's defaults (CPU, resident memory, start
   * time, event-loop lag, GC, heap and heap spaces, handles, file descriptors), and
   * nodejs_heap_used_bytes, the name the heap in use had before them.
   */
  addProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use, in bytes (as nodejs_heap_size_used_bytes).',
      registers: [this.registry],
      collect() {
        this.set(process.memoryUsage().heapUsed);
      },
    });
  }

  /** Adds a collector run at every scrape; it returns the families it computed. */
  addCollector(collector: Collector): void {
    this.collectors.push(collector);
  }

  removeCollector(collector: Collector): void {
    const i = this.collectors.indexOf(collector);
    if (i >= 0) this.collectors.splice(i, 1);
  }

  /**
   * The text exposition of every metric and of what the collectors computed now, as gauges of a
   * registry made for this scrape. A collector that fails is left out; so is a family without
   * samples (a gauge without labels would read 0).
   */
  async render(): Promise<string> {
    const collected = await Promise.all(
      this.collectors.map((c) =>
        Promise.resolve()
          .then(c)
          .catch((): MetricFamily[] => []),
      ),
    );
    const families = new Map<string, { help: string; samples: Sample[] }>();
    for (const family of collected.flat()) {
      const f = families.get(family.name) ?? { help: family.help, samples: [] };
      f.samples.push(...family.samples);
      families.set(family.name, f);
    }
    const scrape = new Registry();
    for (const [name, f] of families) {
      if (f.samples.length === 0) continue;
      const labelNames = [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)))];
      const gauge = new Gauge({ name, help: f.help, labelNames, registers: [scrape] });
      for (const s of f.samples) gauge.set(s.labels, s.value);
    }
    return Registry.merge([this.registry, scrape]).metrics();
  }
}
