// One topic: partitions with leader, replicas, ISR and offsets, its throughput, its configs
// (editable), and the operators' actions on it.
import { api, clusterPath, enc, get } from './api.js';
import { COLORS, lineChart } from './charts.js';
import { $, armed, fmt, fmtRate, html, setHtml } from './dom.js';
import { addSample, latest, rateOf } from './samples.js';

export async function mount(root, { params }) {
  const path = `${clusterPath(params.cluster)}/topics/${enc(params.topic)}`;
  const recordsLink = (p) => `#/c/${enc(params.cluster)}/topics/${enc(params.topic)}/records?partition=${p}`;
  setHtml(
    root,
    html`<h1><span class="crumb">${params.cluster} / topics /</span> ${params.topic}</h1>
      <p class="lead" id="topic-id"></p>
      <div class="toolbar">
        <a href="${recordsLink(0)}"><button id="browse-records" class="primary">Browse records</button></a>
        <span class="spacer"></span>
        <form id="grow" class="inline-form">
          <input
            id="grow-count"
            type="number"
            min="1"
            placeholder="partitions"
            aria-label="New partition count"
            style="width:110px"
          />
          <button type="submit">Add partitions</button>
        </form>
        <button id="delete-topic" class="danger">Delete topic</button>
      </div>
      <div id="message"></div>
      <div class="stats" id="stats"></div>
      <section class="card">
        <h2>Records in per second</h2>
        <div id="chart"></div>
      </section>
      <section class="card">
        <h2>Partitions</h2>
        <table id="partitions">
          <thead>
            <tr>
              <th class="num">Partition</th>
              <th class="num">Leader</th>
              <th>Replicas</th>
              <th>ISR</th>
              <th class="num">Log start</th>
              <th class="num">Log end</th>
              <th class="num">Records</th>
              <th></th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </section>
      <section class="card">
        <div class="card-head">
          <h2>Configs</h2>
          <label><input id="only-overrides" type="checkbox" /> overrides only</label>
        </div>
        <div id="config-message"></div>
        <table id="configs">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th>Source</th>
              <th></th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
        <form id="add-config" class="inline-form" style="margin-top:12px">
          <label>Config<input id="new-config-name" placeholder="retention.ms" /></label>
          <label>Value<input id="new-config-value" placeholder="86400000" /></label>
          <button type="submit">Set override</button>
        </form>
      </section>`,
  );

  const refresh = async () => {
    let t;
    try {
      t = await get(path);
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
      return;
    }
    const now = Date.now();
    addSample(
      `topic:${params.cluster}:${params.topic}`,
      now,
      t.partitions.reduce((n, p) => n + (p.logEndOffset ?? 0), 0),
    );
    const rate = rateOf(`topic:${params.cluster}:${params.topic}`);
    setHtml($('#topic-id'), html`Topic id <code>${t.topicId}</code>${t.internal ? ' · internal' : ''}`);
    setHtml(
      $('#stats'),
      html`<div class="stat">
          <div class="label">Partitions</div>
          <div class="value">${fmt(t.partitions.length)}</div>
        </div>
        <div class="stat">
          <div class="label">Replication factor</div>
          <div class="value">${fmt(t.replicationFactor)}</div>
        </div>
        <div class="stat">
          <div class="label">Records</div>
          <div class="value" id="record-count">${fmt(t.records)}</div>
        </div>
        <div class="stat">
          <div class="label">Records in/s</div>
          <div class="value">${fmtRate(latest(rate))}</div>
        </div>
        <div class="stat ${t.underReplicatedPartitions > 0 ? 'bad' : ''}">
          <div class="label">Under-replicated</div>
          <div class="value">${t.underReplicatedPartitions}</div>
        </div>
        <div class="stat ${t.offlinePartitions > 0 ? 'bad' : ''}">
          <div class="label">Offline</div>
          <div class="value">${t.offlinePartitions}</div>
        </div>`,
    );
    lineChart($('#chart'), [{ name: params.topic, color: COLORS[0], points: rate }], { unit: 'rec/s' });
    setHtml(
      $('#partitions tbody'),
      t.partitions.map(
        (p) =>
          html`<tr>
            <td class="num">${p.partition}</td>
            <td class="num">${p.leader < 0 ? html`<span class="badge bad">none</span>` : p.leader}</td>
            <td class="mono">${p.replicas.join(', ')}</td>
            <td class="mono">
              ${p.isr.join(', ')}
              ${p.underReplicated ? html`<span class="badge warn">under-replicated</span>` : ''}
            </td>
            <td class="num">${fmt(p.logStartOffset)}</td>
            <td class="num">${fmt(p.logEndOffset)}</td>
            <td class="num">${fmt(p.records)}</td>
            <td class="num"><a href="${recordsLink(p.partition)}">records</a></td>
          </tr>`,
      ),
    );
  };

  const loadConfigs = async () => {
    const r = await get(`${path}/configs`);
    const only = $('#only-overrides').checked;
    const rows = r.items.filter((c) => !only || c.source === 'DYNAMIC_TOPIC_CONFIG');
    setHtml(
      $('#configs tbody'),
      rows.map((c) => {
        const override = c.source === 'DYNAMIC_TOPIC_CONFIG';
        return html`<tr>
          <td class="mono">${c.name}</td>
          <td>
            ${c.readOnly ? html`<span class="mono">${c.value ?? '(sensitive)'}</span>` : html`<input class="mono" data-config="${c.name}" value="${c.value ?? ''}" size="24" aria-label="${c.name}" />`}
          </td>
          <td>
            <span class="badge ${override ? 'info' : ''}"
              >${override ? 'topic override' : c.source === 'DEFAULT_CONFIG' ? 'default' : c.source}</span
            >
          </td>
          <td class="num">
            ${c.readOnly ? '' : html`<button class="small" data-save="${c.name}">Save</button>`}
            ${override ? html`<button class="small" data-reset="${c.name}">Reset to default</button>` : ''}
          </td>
        </tr>`;
      }),
    );
    for (const b of root.querySelectorAll('[data-save]')) {
      b.addEventListener('click', () => {
        const input = root.querySelector(`input[data-config="${CSS.escape(b.dataset.save)}"]`);
        void alter({ set: { [b.dataset.save]: input.value } }, `Set ${b.dataset.save}=${input.value}.`);
      });
    }
    for (const b of root.querySelectorAll('[data-reset]')) {
      b.addEventListener(
        'click',
        () => void alter({ delete: [b.dataset.reset] }, `${b.dataset.reset} is back to its default.`),
      );
    }
  };

  const alter = async (body, done) => {
    try {
      await api('PATCH', `${path}/configs`, body);
      // Reload first: the message then means the table shows the change, and an edit begun
      // after the message appears is not wiped by the reload.
      await loadConfigs();
      setHtml($('#config-message'), html`<div class="alert ok">${done}</div>`);
    } catch (err) {
      setHtml($('#config-message'), html`<div class="alert">${err.message}</div>`);
    }
  };

  $('#only-overrides').addEventListener('change', () => void loadConfigs());
  $('#add-config').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('#new-config-name').value.trim();
    void alter({ set: { [name]: $('#new-config-value').value.trim() } }, `Set ${name}.`);
  });
  $('#grow').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', `${path}/partitions`, { count: Number($('#grow-count').value) });
      setHtml(
        $('#message'),
        html`<div class="alert ok">The topic now has ${$('#grow-count').value} partitions.</div>`,
      );
      await refresh();
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
    }
  });
  armed($('#delete-topic'), 'Confirm: delete topic', async () => {
    try {
      await api('DELETE', path);
      location.hash = `#/c/${enc(params.cluster)}/topics`;
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
    }
  });

  await refresh();
  await loadConfigs().catch((err) =>
    setHtml($('#config-message'), html`<div class="alert">${err.message}</div>`),
  );
  return { refresh };
}
