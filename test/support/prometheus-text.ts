import assert from 'node:assert/strict';

export interface PromSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Exposition {
  /** Family name to its declared type (counter, gauge, histogram, ...). */
  readonly types: Map<string, string>;
  /** Sample name (a histogram's _bucket, _sum and _count apart) to its samples. */
  readonly samples: Map<string, PromSample[]>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
// Values as Prometheus reads them (Go's ParseFloat): prom-client writes NaN as "Nan".
const SAMPLE = new RegExp(`^(${NAME})(\\{.*\\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|[Nn]a[Nn]|[+-]Inf)$`);

/**
 * Parses Prometheus' text format (0.0.4) as a scraper would, checking every line's form: each
 * family is declared once, with HELP and TYPE before its samples.
 */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples = new Map<string, PromSample[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = new RegExp(`^# HELP (${NAME}) `).exec(line);
    if (help !== null) {
      assert.ok(!helped.has(help[1]), `one HELP for ${help[1]}`);
      helped.add(help[1]);
      continue;
    }
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type !== null) {
      assert.ok(!types.has(type[1]), `one TYPE for ${type[1]}`);
      assert.ok(helped.has(type[1]), `HELP before TYPE for ${type[1]}`);
      types.set(type[1], type[2]);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(m[1]) || types.has(family), `a declared family for ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2];
    samples.set(m[1], [...(samples.get(m[1]) ?? []), { labels, value: Number(m[3]) }]);
  }
  return { types, samples };
}

/** The value of the first sample of `name` whose labels include `labels`. */
export function sampleValue(
  samples: Map<string, PromSample[]>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.get(name)?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Node's process metrics every Tributary process serves (prom-client's defaults and the older heap name). */
export const PROCESS_METRICS: Readonly<Record<string, string>> = {
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  process_start_time_seconds: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_heap_used_bytes: 'gauge',
  nodejs_active_handles: 'gauge',
  nodejs_active_handles_total: 'gauge',
};
