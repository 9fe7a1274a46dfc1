// Line charts as SVG: time on x (the sampling window up to now), one line per series.
import { esc, fmtRate, html, raw, setHtml } from './dom.js';
import { WINDOW } from './samples.js';

export const COLORS = [
  '#1f6feb',
  '#e8590c',
  '#2da44e',
  '#8250df',
  '#d6336c',
  '#0ca678',
  '#f59f00',
  '#495057',
];

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const m = v / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function tick(v) {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(1)}`;
}

/**
 * Draws the series into el. Each series: { name, color, points: [[t, v], ...] }.
 * `unit` labels the legend's latest values.
 */
export function lineChart(el, seriesList, { unit = '', height = 170 } = {}) {
  // Drawn at the container's size, so text keeps its size whatever the card's width.
  const width = Math.max(320, Math.round(el.clientWidth || 640));
  const left = 44;
  const right = 10;
  const top = 10;
  const bottom = 22;
  const now = Date.now();
  const all = seriesList.flatMap((s) => s.points);
  // The x axis spans what was sampled since the page opened, from 20 seconds up to the window.
  const earliest = Math.min(now, ...all.map((p) => p[0]));
  const span = Math.min(WINDOW, Math.max(20000, now - earliest));
  const from = now - span;
  const max = niceMax(Math.max(0, ...all.map((p) => p[1])) * 1.1);
  const x = (t) => left + ((t - from) / span) * (width - left - right);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const grid = [0, 0.5, 1].map(
    (f) =>
      `<line class="grid" x1="${left}" x2="${width - right}" y1="${y(max * f)}" y2="${y(max * f)}"/>` +
      `<text class="axis" x="${left - 6}" y="${y(max * f) + 4}" text-anchor="end">${tick(max * f)}</text>`,
  );
  const ago = (ms) => (ms >= 60000 ? `-${+(ms / 60000).toFixed(1)}m` : `-${Math.round(ms / 1000)}s`);
  const xLabels = [0, 1, 2, 3].map((i) => {
    const t = from + (span * i) / 3;
    const anchor = i === 0 ? 'start' : i === 3 ? 'end' : 'middle';
    return `<text class="axis" x="${x(t)}" y="${height - 6}" text-anchor="${anchor}">${i === 3 ? 'now' : ago(now - t)}</text>`;
  });
  const lines = seriesList
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const pts = s.points
        .filter((p) => p[0] >= from)
        .map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
      const last = s.points[s.points.length - 1];
      return (
        `<polyline fill="none" stroke="${esc(s.color)}" stroke-width="2" stroke-linejoin="round" points="${pts.join(' ')}"/>` +
        `<circle cx="${x(last[0])}" cy="${y(last[1])}" r="3" fill="${esc(s.color)}"/>`
      );
    });
  const waiting =
    all.length === 0
      ? `<text class="axis" x="${width / 2}" y="${height / 2}" text-anchor="middle">collecting samples…</text>`
      : '';
  const svg = `<svg viewBox="0 0 ${width} ${height}" role="img">${grid.join('')}${xLabels.join('')}${lines.join('')}${waiting}</svg>`;
  const legend = seriesList.map((s) => {
    const last = s.points.length > 0 ? s.points[s.points.length - 1][1] : null;
    return html`<span
      ><span class="swatch" style="background:${s.color}"></span>${s.name}
      <b>${fmtRate(last)}</b> ${unit}</span
    >`;
  });
  setHtml(
    el,
    html`<div class="chart">${raw(svg)}</div>
      <div class="legend">${legend}</div>`,
  );
}
