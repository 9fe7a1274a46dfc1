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

type MetricType = 'counter' | 'gauge' | 'histogram' | 'hot counter' | 'hot histogram';

/** A counter's series on a hot path: a plain number, read at scrape time. */
export interface HotCounter {
  inc(by?: number): void;
}

/** A histogram's series on a hot path: plain bucket counts, read at scrape time. */
export interface HotHistogram {
  observe(value: number): void;
}

/** A family of hot series, one per label set; bind the labels once and keep the child. */
export interface HotFamily<C> {
  labels(labels: Labels): C;
}

/**
 * A counter or histogram family whose series are plain numbers, for paths taken per request:
 * a prom-client child costs microseconds per increment (it hashes its labels every time),
 * this a field update. prom-client renders it at scrape time from get(), in the same format
 * as its own counters and histograms.
 */
class HotMetric {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    /** Upper bounds of a histogram's buckets, ascending; empty for a counter. */
    private readonly upperBounds: readonly number[],
  ) {}

  child(labels: Labels): { counts: number[]; sum: number } {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: { ...labels }, counts: new Array<number>(this.upperBounds.length + 1).fill(0), sum: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  /** What prom-client's registry renders: its own metrics' shape. */
  get(): Promise<object> {
    const values: object[] = [];
    for (const s of this.series.values()) {
      if (this.type === 'counter') {
        values.push({ labels: s.labels, value: s.sum });
        continue;
      }
      let cumulative = 0;
      const bucket = `${this.name}_bucket`;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: bucket });
      });
      const count = cumulative + s.counts[this.upperBounds.length];
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: count, metricName: bucket },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' });
  }

  reset(): void {
    this.series.clear();
  }
}

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

  /** A counter family for hot paths (see HotMetric); its series start at 0 when bound. */
  hotCounter(options: MetricOptions): HotFamily<HotCounter> {
    const metric = this.registerHot(options, 'counter', []);
    return {
      labels: (labels) => {
        const s = metric.child(labels);
        return {
          inc(by = 1) {
            s.sum += by;
          },
        };
      },
    };
  }

  /** A histogram family for hot paths (see HotMetric). */
  hotHistogram(options: HistogramOptions): HotFamily<HotHistogram> {
    const bounds = [...(options.buckets ?? LATENCY_BUCKETS)];
    const metric = this.registerHot(options, 'histogram', bounds);
    return {
      labels: (labels) => {
        const s = metric.child(labels);
        return {
          observe(value) {
            let i = 0;
            while (i < bounds.length && value > bounds[i]) i++;
            s.counts[i]++;
            s.sum += value;
          },
        };
      },
    };
  }

  private registerHot(
    options: MetricOptions,
    type: 'counter' | 'histogram',
    bounds: readonly number[],
  ): HotMetric {
    return this.register(options, `hot ${type}`, () => {
      const metric = new HotMetric(options.name, options.help, type, bounds);
      this.registry.registerMetric(metric as never);
      return metric;
    });
  }

  private base(options: MetricOptions): { name: string; help: string; registers: Registry[] } {
    return { name: options.name, help: options.help, registers: [this.registry] };
  }

  /**
   * Registering a name again returns the metric already there; a different type or label set
   * is an error. prom-client checks the names.
   */
  private register<M extends Counter | Gauge | Histogram | HotMetric>(
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
