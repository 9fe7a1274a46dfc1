// Brokers of one cluster as Metadata shows them, and the cluster's client quotas.
import { api, clusterPath, get } from './api.js';
import { $, fmt, html, setHtml } from './dom.js';

const QUOTA_KEYS = [
  'producer_byte_rate',
  'consumer_byte_rate',
  'request_percentage',
  'controller_mutation_rate',
];

/** The entity of the form: each type is left out, the default, or a name. */
function formEntity(root) {
  const entity = {};
  for (const [type, field] of [
    ['user', 'user'],
    ['client', 'clientId'],
  ]) {
    const mode = $(`#quota-${type}-mode`, root).value;
    if (mode === 'default') entity[field] = null;
    else if (mode === 'name') entity[field] = $(`#quota-${type}-name`, root).value.trim();
  }
  return entity;
}

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
      </section>
      <section class="card">
        <h2>Client quotas</h2>
        <p class="note">
          Enforced by each broker on its own traffic: byte rates in bytes/s, request_percentage in percent of
          a broker's event loop, controller_mutation_rate in partitions/s. The most specific entity applies. A
          quota on the mirror's client.id for this cluster limits the replicator here.
        </p>
        <div id="quota-message"></div>
        <table id="quotas">
          <thead>
            <tr>
              <th>Entity</th>
              ${QUOTA_KEYS.map((k) => html`<th class="num mono">${k}</th>`)}
              <th></th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
        <form id="set-quota" class="inline-form" style="margin-top:12px">
          <label
            >User<select id="quota-user-mode">
              <option value="none">–</option>
              <option value="default">default</option>
              <option value="name">named</option>
            </select></label
          >
          <label>User name<input id="quota-user-name" placeholder="alice" /></label>
          <label
            >Client id<select id="quota-client-mode">
              <option value="none">–</option>
              <option value="default">default</option>
              <option value="name" selected>named</option>
            </select></label
          >
          <label>Client id name<input id="quota-client-name" placeholder="my-app" /></label>
          <label
            >Quota<select id="quota-key">
              ${QUOTA_KEYS.map((k) => html`<option value="${k}">${k}</option>`)}
            </select></label
          >
          <label>Value<input id="quota-value" placeholder="1048576" /></label>
          <button type="submit">Set quota</button>
        </form>
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
  const quotasPath = `${clusterPath(params.cluster)}/quotas`;
  const loadQuotas = async () => {
    const r = await get(quotasPath);
    setHtml(
      $('#quotas tbody'),
      r.items.length === 0
        ? html`<tr>
            <td colspan="${QUOTA_KEYS.length + 2}" class="note">
              No client quotas: every client may use the brokers freely.
            </td>
          </tr>`
        : r.items.map(
            (q, i) =>
              html`<tr>
                <td>${q.description}</td>
                ${QUOTA_KEYS.map((k) => html`<td class="num">${q.values[k] === undefined ? '–' : fmt(q.values[k])}</td>`)}
                <td class="num"><button class="small" data-remove-quota="${i}">Remove</button></td>
              </tr>`,
          ),
    );
    for (const b of root.querySelectorAll('[data-remove-quota]')) {
      const q = r.items[Number(b.dataset.removeQuota)];
      b.addEventListener(
        'click',
        () =>
          void alterQuota(
            { entity: q.entity, remove: Object.keys(q.values) },
            `Removed the quotas of ${q.description}.`,
          ),
      );
    }
  };
  const alterQuota = async (body, done) => {
    try {
      await api('PATCH', quotasPath, body);
      await loadQuotas();
      setHtml($('#quota-message'), html`<div class="alert ok">${done}</div>`);
    } catch (err) {
      setHtml($('#quota-message'), html`<div class="alert">${err.message}</div>`);
    }
  };
  $('#set-quota').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('#quota-key').value;
    const value = Number($('#quota-value').value.trim());
    void alterQuota({ entity: formEntity(root), set: { [key]: value } }, `Set ${key} = ${fmt(value)}.`);
  });

  await refresh();
  try {
    await loadQuotas();
  } catch (err) {
    setHtml($('#quota-message'), html`<div class="alert">${err.message}</div>`);
  }
  return { refresh };
}
