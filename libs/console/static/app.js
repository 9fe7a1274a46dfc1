// The dashboard: a hash router over views, a sidebar of clusters, and a sampler that polls
// every cluster's overview so charts have history whichever page is open.
import { clusterPath, enc, forgetToken, get, showSignedIn } from './api.js';
import { $, html, setHtml } from './dom.js';
import { addSample } from './samples.js';
import * as overview from './view-overview.js';
import * as topics from './view-topics.js';
import * as topic from './view-topic.js';
import * as records from './view-records.js';
import * as groups from './view-groups.js';
import * as group from './view-group.js';
import * as brokers from './view-brokers.js';
import * as flows from './view-flows.js';

const POLL_MS = 2500;

const ROUTES = [
  [/^\/?$/, overview, []],
  [/^\/flows$/, flows, []],
  [/^\/c\/([^/]+)\/brokers$/, brokers, ['cluster']],
  [/^\/c\/([^/]+)\/topics$/, topics, ['cluster']],
  [/^\/c\/([^/]+)\/topics\/([^/]+)$/, topic, ['cluster', 'topic']],
  [/^\/c\/([^/]+)\/topics\/([^/]+)\/records$/, records, ['cluster', 'topic']],
  [/^\/c\/([^/]+)\/groups$/, groups, ['cluster']],
  [/^\/c\/([^/]+)\/groups\/([^/]+)$/, group, ['cluster', 'group']],
];

/** What every view can read: the topology and each cluster's latest overview. */
export const state = {
  topology: { clusters: [], links: [], mirror: { configured: false, message: null } },
  overviews: new Map(),
};

const listeners = new Set();

/** Calls fn after every sampling round (views redraw their charts then). */
export function onSample(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

async function sample() {
  try {
    state.topology = await get('/api/topology');
    const now = Date.now();
    await Promise.all(
      state.topology.clusters.map(async (c) => {
        try {
          const o = await get(clusterPath(c.alias));
          state.overviews.set(c.alias, o);
          if (o.reachable) {
            addSample(`end:${c.alias}`, now, o.logEndOffsetSum);
            addSample(`lag:${c.alias}`, now, o.consumerLag);
          }
        } catch (err) {
          state.overviews.set(c.alias, { alias: c.alias, reachable: false, error: err.message, brokers: [] });
        }
      }),
    );
    $('#live').classList.remove('stale');
  } catch {
    $('#live').classList.add('stale');
  }
  renderSidebar();
  for (const fn of listeners) fn();
}

function renderSidebar() {
  const hash = (location.hash.slice(1) || '/').split('?')[0];
  // A cluster's section stays lit on its sub-pages (a topic under Topics).
  const isActive = (target) => hash === target || (target !== '/' && hash.startsWith(`${target}/`));
  const nav = (href, label) =>
    html`<a class="nav ${isActive(href.slice(1)) ? 'active' : ''}" href="${href}">${label}</a>`;
  setHtml(
    $('#sidebar'),
    html`${nav('#/', 'Overview')}${nav('#/flows', 'Mirror flows')}
      <h3>Clusters</h3>
      ${state.topology.clusters.map((c) => {
        const o = state.overviews.get(c.alias);
        const dot = o === undefined ? '' : o.reachable ? 'up' : 'down';
        const base = `#/c/${enc(c.alias)}`;
        return html`<div class="cluster">
          <div class="cluster-name">
            <span class="dot ${dot}"></span>${c.alias}
            ${c.datacenter ? html`<span class="badge dc">${c.datacenter}</span>` : ''}
          </div>
          <div class="sub">
            ${nav(`${base}/topics`, 'Topics')}${nav(`${base}/groups`, 'Consumer groups')}${nav(`${base}/brokers`, 'Brokers')}
          </div>
        </div>`;
      })}`,
  );
}

let current = null;
let timer = null;

async function route() {
  const [path, search] = location.hash.slice(1).split('?');
  const query = new URLSearchParams(search ?? '');
  current?.unmount?.();
  current = null;
  clearInterval(timer);
  const root = $('#view');
  for (const [pattern, view, names] of ROUTES) {
    const m = pattern.exec(path || '/');
    if (m === null) continue;
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
    setHtml(root, html`<p class="lead">Loading…</p>`);
    const mounted = { view };
    current = mounted;
    const handle = (await view.mount(root, { params, query, state, onSample })) ?? {};
    if (current !== mounted) {
      handle.unmount?.();
      return;
    }
    current = handle;
    if (handle.refresh) timer = setInterval(() => handle.refresh().catch(() => undefined), POLL_MS);
    renderSidebar();
    return;
  }
  setHtml(
    root,
    html`<h1>Not found</h1>
      <p class="lead">No page at ${path}. <a href="#/">Back to the overview</a>.</p>`,
  );
}

window.addEventListener('hashchange', () => void route());
$('#forget-token').addEventListener('click', (event) => {
  event.preventDefault();
  forgetToken();
  location.reload();
});
showSignedIn();
await sample();
setInterval(() => void sample(), POLL_MS);
await route();
