// Consumer groups of one cluster: state, members and lag, a page at a time.
import { clusterPath, enc, get } from './api.js';
import { $, fmt, html, setHtml, stateBadge } from './dom.js';

const PAGE = 20;

export async function mount(root, { params }) {
  let offset = 0;
  setHtml(
    root,
    html`<h1><span class="crumb">${params.cluster} /</span> Consumer groups</h1>
      <p class="lead">Lag is each partition's log end offset minus the group's committed offset, summed.</p>
      <section class="card">
        <div class="toolbar">
          <input id="search" type="search" placeholder="Filter by group id" aria-label="Filter groups" />
        </div>
        <div id="message"></div>
        <table id="groups">
          <thead>
            <tr>
              <th>Group</th>
              <th>State</th>
              <th>Protocol type</th>
              <th class="num">Members</th>
              <th class="num">Lag</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
        <div class="pager" id="pager"></div>
      </section>`,
  );
  const refresh = async () => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    const search = $('#search').value.trim();
    if (search !== '') q.set('q', search);
    let page;
    try {
      page = await get(`${clusterPath(params.cluster)}/groups?${q}`);
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
      return;
    }
    setHtml($('#message'), '');
    setHtml(
      $('#groups tbody'),
      page.items.length === 0
        ? html`<tr>
            <td colspan="5" class="empty">No consumer groups${search ? ` matching "${search}"` : ''}.</td>
          </tr>`
        : page.items.map(
            (g) =>
              html`<tr>
                <td><a href="#/c/${enc(params.cluster)}/groups/${enc(g.groupId)}">${g.groupId}</a></td>
                <td>${stateBadge(g.state)}</td>
                <td>${g.protocolType || '–'}</td>
                <td class="num">${fmt(g.members)}</td>
                <td class="num">${fmt(g.lag)}</td>
              </tr>`,
          ),
    );
    const last = Math.min(page.offset + page.items.length, page.total);
    setHtml(
      $('#pager'),
      html`<span>${page.total === 0 ? '' : `${page.offset + 1}–${last} of ${page.total}`}</span>
        <button id="prev" class="small" ${page.offset === 0 ? 'disabled' : ''}>Previous</button>
        <button id="next" class="small" ${page.nextOffset === null ? 'disabled' : ''}>Next</button>`,
    );
    $('#prev').onclick = () => {
      offset = Math.max(0, offset - PAGE);
      void refresh();
    };
    $('#next').onclick = () => {
      offset = page.nextOffset ?? offset;
      void refresh();
    };
  };
  let typing = null;
  $('#search').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      offset = 0;
      void refresh();
    }, 200);
  });
  await refresh();
  return { refresh };
}
