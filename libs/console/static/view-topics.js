// Topics of one cluster: search, pages, create and delete.
import { api, clusterPath, enc, get } from './api.js';
import { $, armed, fmt, html, setHtml } from './dom.js';

const PAGE = 20;

/** "key=value" lines into a map; blank lines are skipped. */
function parseConfigs(text) {
  const out = {};
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`"${line}" is not key=value`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export async function mount(root, { params }) {
  const base = clusterPath(params.cluster);
  let offset = 0;
  setHtml(
    root,
    html`<h1><span class="crumb">${params.cluster} /</span> Topics</h1>
      <p class="lead">
        Partitions, replication and health of each topic; open one for its partitions, configs and records.
      </p>
      <section class="card">
        <div class="toolbar">
          <input id="search" type="search" placeholder="Filter by name" aria-label="Filter topics by name" />
          <label><input id="internal" type="checkbox" /> internal topics</label>
          <span class="spacer"></span>
          <button id="new-topic" class="primary">New topic</button>
        </div>
        <form id="create-form" class="card" hidden>
          <h2>New topic</h2>
          <div class="form">
            <label for="topic-name">Name</label><input id="topic-name" required placeholder="orders" />
            <label for="topic-partitions">Partitions</label>
            <input
              id="topic-partitions"
              type="number"
              min="1"
              placeholder="broker default (num.partitions)"
            />
            <label for="topic-rf">Replication factor</label>
            <input id="topic-rf" type="number" min="1" placeholder="broker default" />
            <label for="topic-configs">Configs</label>
            <textarea
              id="topic-configs"
              rows="3"
              placeholder="retention.ms=86400000&#10;cleanup.policy=delete"
            ></textarea>
            <div class="actions">
              <button type="submit" class="primary" id="create-topic">Create topic</button>
              <button type="button" id="cancel-create">Cancel</button>
            </div>
          </div>
          <div id="create-error"></div>
        </form>
        <div id="message"></div>
        <table id="topics">
          <thead>
            <tr>
              <th>Topic</th>
              <th class="num">Partitions</th>
              <th class="num">Replication factor</th>
              <th class="num">Under-replicated</th>
              <th class="num">Offline</th>
              <th></th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
        <div class="pager" id="pager"></div>
      </section>`,
  );

  let shown = '';
  const refresh = async (force = false) => {
    // A delete waiting for its confirming click keeps the table as it is.
    if (root.querySelector('.confirming')) return;
    const q = $('#search').value.trim();
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (q !== '') query.set('q', q);
    if ($('#internal').checked) query.set('internal', 'true');
    let page;
    try {
      page = await get(`${base}/topics?${query}`);
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
      return;
    }
    if (page.items.length === 0 && page.total > 0 && offset > 0) {
      offset = Math.max(0, offset - PAGE);
      return refresh(true);
    }
    const key = JSON.stringify(page);
    if (!force && key === shown) return;
    shown = key;
    setHtml(
      $('#topics tbody'),
      page.items.length === 0
        ? html`<tr>
            <td colspan="6" class="empty">${q ? `No topic matches "${q}".` : 'No topics yet.'}</td>
          </tr>`
        : page.items.map(
            (t) =>
              html`<tr>
                <td>
                  <a href="#/c/${enc(params.cluster)}/topics/${enc(t.name)}">${t.name}</a>
                  ${t.internal ? html` <span class="badge">internal</span>` : ''}
                </td>
                <td class="num">${fmt(t.partitions)}</td>
                <td class="num">${fmt(t.replicationFactor)}</td>
                <td class="num">
                  ${t.underReplicatedPartitions > 0 ? html`<span class="badge warn">${t.underReplicatedPartitions}</span>` : '0'}
                </td>
                <td class="num">
                  ${t.offlinePartitions > 0 ? html`<span class="badge bad">${t.offlinePartitions}</span>` : '0'}
                </td>
                <td class="num">
                  ${t.internal ? '' : html`<button class="small danger" data-delete="${t.name}">Delete</button>`}
                </td>
              </tr>`,
          ),
    );
    for (const b of root.querySelectorAll('[data-delete]')) {
      armed(b, 'Confirm delete', async () => {
        try {
          await api('DELETE', `${base}/topics/${enc(b.dataset.delete)}`);
          setHtml($('#message'), html`<div class="alert ok">Deleted topic ${b.dataset.delete}.</div>`);
        } catch (err) {
          setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
        }
        await refresh(true);
      });
    }
    const last = Math.min(page.offset + page.items.length, page.total);
    setHtml(
      $('#pager'),
      html`<span>${page.total === 0 ? '' : `${page.offset + 1}–${last} of ${page.total}`}</span>
        <button id="prev" class="small" ${page.offset === 0 ? 'disabled' : ''}>Previous</button>
        <button id="next" class="small" ${page.nextOffset === null ? 'disabled' : ''}>Next</button>`,
    );
    $('#prev').onclick = () => {
      offset = Math.max(0, offset - PAGE);
      void refresh(true);
    };
    $('#next').onclick = () => {
      offset = page.nextOffset ?? offset;
      void refresh(true);
    };
  };

  let typing = null;
  $('#search').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      offset = 0;
      void refresh(true);
    }, 200);
  });
  $('#internal').addEventListener('change', () => {
    offset = 0;
    void refresh(true);
  });
  $('#new-topic').addEventListener('click', () => {
    $('#create-form').hidden = false;
    $('#topic-name').focus();
  });
  $('#cancel-create').addEventListener('click', () => {
    $('#create-form').hidden = true;
  });
  $('#create-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: $('#topic-name').value.trim() };
    if ($('#topic-partitions').value !== '') body.partitions = Number($('#topic-partitions').value);
    if ($('#topic-rf').value !== '') body.replicationFactor = Number($('#topic-rf').value);
    try {
      const configs = parseConfigs($('#topic-configs').value);
      if (Object.keys(configs).length > 0) body.configs = configs;
      const created = await api('POST', `${base}/topics`, body);
      location.hash = `#/c/${enc(params.cluster)}/topics/${enc(created.name)}`;
    } catch (err) {
      setHtml($('#create-error'), html`<div class="alert">${err.message}</div>`);
    }
  });
  await refresh(true);
  return { refresh: () => refresh() };
}
