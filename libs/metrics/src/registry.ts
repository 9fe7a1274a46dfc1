/**
 * A small metrics registry rendered in Prometheus' text exposition format (version 0.0.4):
 * counters, gauges and histograms with labels, plus collectors that compute families when
 * scraped (lag read from a cluster, say). Series are kept in maps keyed by their label values;
 * `labels(...)` returns a bound series so hot paths skip the key building.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type Labels = Readonly<Record<string, string | number>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** A family computed by a collector at scrape time. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
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

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric<S> {
  readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    if (!NAME.test(name)) throw new Error(`metric name "${name}" is not a Prometheus name`);
    for (const l of labelNames) {
      if (!LABEL.test(l) || l.startsWith('__')) throw new Error(`label name "${l}" of ${name} is not valid`);
    }
    this.labelNames = labelNames;
  }

  abstract readonly type: MetricType;
  protected abstract initial(): S;

  protected stateFor(labels: Labels): S {
    const values = this.labelNames.map((l) => {
      const v = labels[l];
      if (v === undefined) throw new Error(`${this.name}: label "${l}" is missing`);
      return String(v);
    });
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { values, state: this.initial() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  /** Forgets every series (a gauge family recomputed from scratch). */
  reset(): void {
    this.series.clear();
  }

  abstract render(out: string[]): void;

  protected header(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
  }

  protected labelText(values: readonly string[], extra?: [string, string]): string {
    const parts = values.map((v, i) => `${this.labelNames[i]}="${escapeLabel(v)}"`);
    if (extra !== undefined) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    return parts.length === 0 ? '' : `{${parts.join(',')}}`;
  }
}

interface Box {
  value: number;
}

/** A metric of one number per series (counters and gauges). */
abstract class ValueMetric extends Metric<Box> {
  protected initial(): Box {
    return { value: 0 };
  }

  get(labels: Labels = {}): number {
    return this.stateFor(labels).value;
  }

  render(out: string[]): void {
    this.header(out);
    for (const s of this.series.values())
      out.push(`${this.name}${this.labelText(s.values)} ${num(s.state.value)}`);
  }
}

export class Counter extends ValueMetric {
  readonly type = 'counter';

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`${this.name}: a counter only goes up (inc by ${by})`);
    this.stateFor(labels).value += by;
  }

  /** The series for fixed label values, for hot paths. */
  labels(labels: Labels): { inc(by?: number): void } {
    const box = this.stateFor(labels);
    return {
      inc: (by = 1) => {
        box.value += by;
      },
    };
  }
}

export class Gauge extends ValueMetric {
  readonly type = 'gauge';

  set(labels: Labels, value: number): void {
    this.stateFor(labels).value = value;
  }

  inc(labels: Labels = {}, by = 1): void {
    this.stateFor(labels).value += by;
  }
}

interface HistogramState {
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramState> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i] > buckets[i - 1])) throw new Error(`${name}: buckets must ascend`);
    }
    this.buckets = buckets;
  }

  protected initial(): HistogramState {
    return { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  observe(labels: Labels, value: number): void {
    observeInto(this.buckets, this.stateFor(labels), value);
  }

  /** The series for fixed label values, for hot paths. */
  labels(labels: Labels): { observe(value: number): void } {
    const state = this.stateFor(labels);
    return { observe: (value) => observeInto(this.buckets, state, value) };
  }

  get(labels: Labels = {}): { count: number; sum: number } {
    const s = this.stateFor(labels);
    return { count: s.count, sum: s.sum };
  }

  render(out: string[]): void {
    this.header(out);
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.state.counts[i];
        out.push(`${this.name}_bucket${this.labelText(s.values, ['le', num(le)])} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${this.labelText(s.values, ['le', '+Inf'])} ${s.state.count}`);
      out.push(`${this.name}_sum${this.labelText(s.values)} ${num(s.state.sum)}`);
      out.push(`${this.name}_count${this.labelText(s.values)} ${s.state.count}`);
    }
  }
}

/** Counts a value in the first bucket it fits; render() makes the counts cumulative. */
function observeInto(buckets: readonly number[], state: HistogramState, value: number): void {
  for (let i = 0; i < buckets.length; i++) {
    if (value <= buckets[i]) {
      state.counts[i]++;
      break;
    }
  }
  state.sum += value;
  state.count++;
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric<unknown>>();
  private readonly collectors: Collector[] = [];

  counter(options: MetricOptions): Counter {
    return this.register(
      options,
      'counter',
      () => new Counter(options.name, options.help, options.labelNames ?? []),
    );
  }

  gauge(options: MetricOptions): Gauge {
    return this.register(
      options,
      'gauge',
      () => new Gauge(options.name, options.help, options.labelNames ?? []),
    );
  }

  histogram(options: HistogramOptions): Histogram {
    return this.register(
      options,
      'histogram',
      () =>
        new Histogram(
          options.name,
          options.help,
          options.labelNames ?? [],
          options.buckets ?? LATENCY_BUCKETS,
        ),
    );
  }

  /**
   * Registering a name again returns the metric already there, so several brokers in one
   * process share a family and differ by their labels; a different type or label set is an error.
   */
  private register<M extends Metric<unknown>>(options: MetricOptions, type: MetricType, create: () => M): M {
    const existing = this.metrics.get(options.name);
    if (existing !== undefined) {
      const labels = options.labelNames ?? [];
      if (existing.type !== type || existing.labelNames.join(',') !== labels.join(',')) {
        throw new Error(
          `metric ${options.name} is already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`,
        );
      }
      return existing as M;
    }
    const metric = create();
    this.metrics.set(options.name, metric);
    return metric;
  }

  /** Adds a collector run at every scrape; it returns the families it computed. */
  addCollector(collector: Collector): void {
    this.collectors.push(collector);
  }

  removeCollector(collector: Collector): void {
    const i = this.collectors.indexOf(collector);
    if (i >= 0) this.collectors.splice(i, 1);
  }

  /** The text exposition of every metric and collector (a collector that fails is left out). */
  async render(): Promise<string> {
    const out: string[] = [];
    for (const m of this.metrics.values()) m.render(out);
    const collected = await Promise.all(
      this.collectors.map((c) =>
        Promise.resolve()
          .then(c)
          .catch(() => []),
      ),
    );
    const families = new Map<string, { help: string; type: string; lines: string[] }>();
    for (const family of collected.flat()) {
      let f = families.get(family.name);
      if (f === undefined) {
        f = { help: family.help, type: family.type, lines: [] };
        families.set(family.name, f);
      }
      for (const s of family.samples) f.lines.push(`${family.name}${renderLabels(s.labels)} ${num(s.value)}`);
    }
    for (const [name, f] of families) {
      out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return out.join('\n') + '\n';
  }
}

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
