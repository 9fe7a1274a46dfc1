// Figures sampled over time in the browser (the REST API answers with current values).

const WINDOW_MS = 3 * 60 * 1000;
const series = new Map();

/** Adds a sample (t in ms) to a named series, dropping what is older than the window. */
export function addSample(key, t, value) {
  let list = series.get(key);
  if (list === undefined) {
    list = [];
    series.set(key, list);
  }
  if (list.length > 0 && list[list.length - 1][0] >= t) return;
  list.push([t, value]);
  while (list.length > 0 && list[0][0] < t - WINDOW_MS) list.shift();
}

export function samples(key) {
  return series.get(key) ?? [];
}

/** Per-second rate of a growing counter (log end offsets): one point per pair of samples. */
export function rateOf(key) {
  const list = samples(key);
  const out = [];
  for (let i = 1; i < list.length; i++) {
    const [t0, v0] = list[i - 1];
    const [t1, v1] = list[i];
    out.push([t1, Math.max(0, ((v1 - v0) * 1000) / (t1 - t0))]);
  }
  return out;
}

export function latest(points) {
  return points.length === 0 ? null : points[points.length - 1][1];
}

export const WINDOW = WINDOW_MS;
