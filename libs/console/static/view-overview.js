// Overview: the topology map, throughput and lag across clusters, and a row per cluster.
import { enc } from './api.js';
import { COLORS, lineChart } from './charts.js';
import { $, fmt, fmtRate, html, setHtml } from './dom.js';
import { latest, rateOf, samples } from './samples.js';
import { renderTopology } from './topology.js';

const capitalized = (text) => (text ? text[0].toUpperCase() + text.slice(1) : '');

export function mount(root, { state, onSample }) {
  setHtml(
    root,
    html`<h1>Overview</h1>
      <p class="lead">Every configured cluster, what feeds what, and how fast records move.</p>
      <section class="card">
        <div class="card-head">
          <h2>Topology</h2>
          <span id="mirror-state"></span>
        </div>
        <div id="topology"></div>
        <p class="note" id="mirror-note"></p>
      </section>
      <div class="grid2">
        <section class="card">
          <h2>Records in per second</h2>
          <div id="chart-throughput"></div>
        </section>
        <section class="card">
          <h2>Consumer lag (records)</h2>
          <div id="chart-lag"></div>
        </section>
      </div>
      <section class="card">
        <h2>Clusters</h2>
        <table id="clusters">
          <thead>
            <tr>
              <th>Cluster</th>
              <th>Data center</th>
              <th>Status</th>
              <th class="num">Brokers</th>
              <th class="num">Topics</th>
              <th class="num">Partitions</th>
              <th class="num">Under-replicated</th>
              <th class="num">Offline</th>
              <th class="num">Groups</th>
              <th class="num">Consumer lag</th>
              <th class="num">Records in/s</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </section>`,
  );
  const draw = () => {
    const clusters = state.topology.clusters;
    const rates = new Map(clusters.map((c) => [c.alias, latest(rateOf(`end:${c.alias}`))]));
    renderTopology($('#topology'), state.topology, state.overviews, rates);
    const mirror = state.topology.mirror;
    setHtml(
      $('#mirror-state'),
      mirror.configured
        ? html`<span class="badge ok">mirror: ${state.topology.links.length} flows</span>`
        : html`<span class="badge">no mirror configured</span>`,
    );
    setHtml(
      $('#mirror-note'),
      mirror.configured
        ? html`Arrows are mirror flows, source to target; <a href="#/flows">manage them</a>.`
        : html`${capitalized(mirror.message)}. Flows will appear here as arrows between clusters.`,
    );
    const series = (prefix, rate) =>
      clusters.map((c, i) => ({
        name: c.alias,
        color: COLORS[i % COLORS.length],
        points: rate ? rateOf(`${prefix}:${c.alias}`) : samples(`${prefix}:${c.alias}`),
      }));
    lineChart($('#chart-throughput'), series('end', true), { unit: 'rec/s' });
    lineChart($('#chart-lag'), series('lag', false), { unit: 'records' });
    setHtml(
      $('#clusters tbody'),
      clusters.map((c) => {
        const o = state.overviews.get(c.alias);
        const link = html`<a href="#/c/${enc(c.alias)}/topics">${c.alias}</a>`;
        if (o === undefined)
          return html`<tr>
            <td>${link}</td>
            <td colspan="10" class="empty">loading…</td>
          </tr>`;
        if (!o.reachable)
          return html`<tr>
            <td>${link}</td>
            <td>${c.datacenter ?? '–'}</td>
            <td><span class="badge bad" title="${o.error}">unreachable</span></td>
            <td colspan="8" class="mono">${o.error}</td>
          </tr>`;
        return html`<tr>
          <td>${link}</td>
          <td>${c.datacenter ?? '–'}</td>
          <td><span class="badge ok">up</span></td>
          <td class="num">${fmt(o.brokers.filter((b) => b.alive).length)}</td>
          <td class="num">${fmt(o.topics)}</td>
          <td class="num">${fmt(o.partitions)}</td>
          <td class="num">
            ${o.underReplicatedPartitions > 0 ? html`<span class="badge warn">${o.underReplicatedPartitions}</span>` : '0'}
          </td>
          <td class="num">
            ${o.offlinePartitions > 0 ? html`<span class="badge bad">${o.offlinePartitions}</span>` : '0'}
          </td>
          <td class="num">${fmt(o.groups)}</td>
          <td class="num">${fmt(o.consumerLag)}</td>
          <td class="num">${fmtRate(rates.get(c.alias))}</td>
        </tr>`;
      }),
    );
  };
  draw();
  return { unmount: onSample(draw) };
}
