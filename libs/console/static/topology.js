// The topology map: clusters as boxes (grouped by data center), mirror flows as arrows from
// source to target, laid out left to right along the flows.
import { esc, fmt, fmtRate, raw, setHtml, html } from './dom.js';

const plural = (n, word) => `${fmt(n)} ${word}${n === 1 ? '' : 's'}`;

const NODE_W = 200;
const NODE_H = 66;
const COL_GAP = 130;
const ROW_GAP = 22;
const PAD = 28;

/** Columns: by longest path from a source when flows exist, else one per data center. */
function layout(nodes, links) {
  const column = new Map();
  if (links.length > 0) {
    for (const n of nodes) column.set(n.alias, 0);
    // Longest path, bounded so that a cycle cannot loop forever.
    for (let round = 0; round < nodes.length; round++) {
      let changed = false;
      for (const l of links) {
        const next = (column.get(l.source) ?? 0) + 1;
        if (l.source !== l.target && next > (column.get(l.target) ?? 0) && next < nodes.length) {
          column.set(l.target, next);
          changed = true;
        }
      }
      if (!changed) break;
    }
  } else {
    const dcs = [...new Set(nodes.map((n) => n.datacenter ?? ''))];
    for (const n of nodes) column.set(n.alias, dcs.indexOf(n.datacenter ?? ''));
  }
  const columns = [];
  for (const n of nodes) {
    const c = column.get(n.alias);
    (columns[c] ??= []).push(n);
  }
  const pos = new Map();
  columns.forEach((list, c) => {
    list.sort(
      (a, b) => (a.datacenter ?? '').localeCompare(b.datacenter ?? '') || a.alias.localeCompare(b.alias),
    );
    list.forEach((n, r) =>
      pos.set(n.alias, { x: PAD + c * (NODE_W + COL_GAP), y: PAD + 18 + r * (NODE_H + ROW_GAP) }),
    );
  });
  return { pos, columns: columns.length, rows: Math.max(1, ...columns.map((l) => l?.length ?? 0)) };
}

/**
 * Draws into el. topology: GET /api/topology; overviews: alias -> GET /api/clusters/:alias;
 * rates: alias -> records in per second.
 */
export function renderTopology(el, topology, overviews, rates) {
  const nodes = topology.clusters.map((c) => ({
    alias: c.alias,
    datacenter: c.datacenter,
    configured: true,
  }));
  for (const l of topology.links)
    for (const alias of [l.source, l.target])
      if (!nodes.some((n) => n.alias === alias)) nodes.push({ alias, datacenter: null, configured: false });
  const { pos, columns, rows } = layout(nodes, topology.links);
  const width = PAD * 2 + columns * NODE_W + (columns - 1) * COL_GAP;
  const height = PAD * 2 + 18 + rows * NODE_H + (rows - 1) * ROW_GAP;
  const parts = [];

  const byDc = new Map();
  for (const n of nodes)
    if (n.datacenter) byDc.set(n.datacenter, [...(byDc.get(n.datacenter) ?? []), pos.get(n.alias)]);
  for (const [dc, ps] of byDc) {
    const x0 = Math.min(...ps.map((p) => p.x)) - 12;
    const y0 = Math.min(...ps.map((p) => p.y)) - 24;
    const x1 = Math.max(...ps.map((p) => p.x)) + NODE_W + 12;
    const y1 = Math.max(...ps.map((p) => p.y)) + NODE_H + 10;
    parts.push(
      `<rect class="dcbox" x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" rx="10"/>`,
      `<text class="dclabel" x="${x0 + 10}" y="${y0 + 14}">${esc(dc)}</text>`,
    );
  }

  for (const l of topology.links) {
    const a = pos.get(l.source);
    const b = pos.get(l.target);
    const forward = b.x > a.x;
    const x1 = forward ? a.x + NODE_W : a.x + NODE_W / 2;
    const y1 = forward ? a.y + NODE_H / 2 : a.y + NODE_H;
    const x2 = forward ? b.x : b.x + NODE_W / 2;
    const y2 = forward ? b.y + NODE_H / 2 : b.y + NODE_H;
    const d = forward
      ? `M${x1},${y1} C${x1 + COL_GAP / 2},${y1} ${x2 - COL_GAP / 2},${y2} ${x2 - 4},${y2}`
      : `M${x1},${y1} C${x1},${y1 + 50} ${x2},${y2 + 50} ${x2},${y2 + 4}`;
    const cls = l.state === 'paused' ? 'paused' : l.state === 'failing' ? 'failing' : '';
    parts.push(
      `<path class="link ${cls}" d="${d}" marker-end="url(#arrow)"><title>${esc(l.flowId)}: ${esc(l.state)}</title></path>`,
    );
    parts.push(
      `<text class="linklabel" x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 6}" text-anchor="middle">${esc(l.state)} · lag ${esc(fmt(l.lagRecords))}</text>`,
    );
  }

  for (const n of nodes) {
    const p = pos.get(n.alias);
    const o = overviews.get(n.alias);
    const status = !n.configured ? '' : o === undefined ? '' : o.reachable ? 'up' : 'down';
    const meta = !n.configured
      ? 'not in this console’s config'
      : o === undefined
        ? 'loading…'
        : o.reachable
          ? `${plural(o.brokers.length, 'broker')} · ${plural(o.topics, 'topic')} · ${plural(o.groups, 'group')}`
          : 'unreachable';
    const live =
      o?.reachable && n.configured
        ? `${fmtRate(rates.get(n.alias))} rec/s in · lag ${fmt(o.consumerLag)}`
        : '';
    const link = n.configured ? `#/c/${encodeURIComponent(n.alias)}/topics` : null;
    const box =
      `<g class="node ${status}" transform="translate(${p.x},${p.y})">` +
      `<rect width="${NODE_W}" height="${NODE_H}" rx="8"/>` +
      `<rect class="status" width="5" height="${NODE_H}" rx="2"/>` +
      `<text class="title" x="16" y="22">${esc(n.alias)}</text>` +
      `<text class="meta" x="16" y="40">${esc(meta)}</text>` +
      `<text x="16" y="57">${esc(live)}</text>` +
      `</g>`;
    parts.push(link ? `<a href="${esc(link)}">${box}</a>` : box);
  }

  const defs =
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">' +
    '<path d="M0,0 L10,5 L0,10 z" fill="#1f6feb"/></marker></defs>';
  const svg = `<svg viewBox="0 0 ${width} ${height}" style="max-width:${width}px" role="img" aria-label="Cluster topology">${defs}${parts.join('')}</svg>`;
  setHtml(el, html`<div class="topology">${raw(svg)}</div>`);
}
