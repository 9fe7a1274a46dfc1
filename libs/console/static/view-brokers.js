// Brokers of one cluster as Metadata shows them.
import { clusterPath, get } from './api.js';
import { $, html, setHtml } from './dom.js';

export async function mount(root, { params }) {
  setHtml(
    root,
    html`<h1><span class="crumb">${params.cluster} /</span> Brokers</h1>
      <p class="lead">
        As the cluster's Metadata lists them; a replica id it does not list shows as offline.
      </p>
      <section class="card">
        <table id="brokers">
          <thead>
            <tr>
              <th class="num">Node</th>
              <th>Address</th>
              <th>Rack</th>
              <th>Role</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
        <div id="error"></div>
      </section>`,
  );
  const refresh = async () => {
    try {
      const r = await get(`${clusterPath(params.cluster)}/brokers`);
      setHtml(
        $('#brokers tbody'),
        r.items.map(
          (b) =>
            html`<tr>
              <td class="num">${b.nodeId}</td>
              <td class="mono">${b.host === null ? '–' : `${b.host}:${b.port}`}</td>
              <td>${b.rack ?? '–'}</td>
              <td>${b.isController ? html`<span class="badge info">controller</span>` : ''}</td>
              <td>
                ${b.alive ? html`<span class="badge ok">alive</span>` : html`<span class="badge bad">offline</span>`}
              </td>
            </tr>`,
        ),
      );
      setHtml($('#error'), '');
    } catch (err) {
      setHtml($('#error'), html`<div class="alert">${err.message}</div>`);
    }
  };
  await refresh();
  return { refresh };
}
