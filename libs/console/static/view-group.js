// One consumer group: state, members and assignments, lag per partition and over time,
// offset resets (only while the group has no members) and deletion.
import { api, clusterPath, enc, get } from './api.js';
import { COLORS, lineChart } from './charts.js';
import { $, armed, fmt, html, setHtml, stateBadge } from './dom.js';
import { addSample, samples } from './samples.js';

export async function mount(root, { params }) {
  const path = `${clusterPath(params.cluster)}/groups/${enc(params.group)}`;
  const key = `group:${params.cluster}:${params.group}`;
  setHtml(
    root,
    html`<h1><span class="crumb">${params.cluster} / groups /</span> ${params.group}</h1>
      <p class="lead" id="summary"></p>
      <div id="message"></div>
      <div class="stats" id="stats"></div>
      <section class="card">
        <h2>Lag over time</h2>
        <div id="chart"></div>
      </section>
      <section class="card">
        <h2>Lag per partition</h2>
        <table id="offsets">
          <thead>
            <tr>
              <th>Topic</th>
              <th class="num">Partition</th>
              <th class="num">Committed</th>
              <th class="num">Log end</th>
              <th class="num">Lag</th>
              <th>Member</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </section>
      <section class="card">
        <h2>Members</h2>
        <table id="members">
          <thead>
            <tr>
              <th>Member</th>
              <th>Client</th>
              <th>Host</th>
              <th>Assigned partitions</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </section>
      <section class="card">
        <h2>Reset offsets</h2>
        <p class="note" style="margin:0 0 12px">
          As <code>kafka-consumer-groups --reset-offsets</code>: only while the group has no active members.
          Preview shows the change without making it.
        </p>
        <form id="reset" class="inline-form">
          <label
            >To
            <select id="reset-to">
              <option value="earliest">earliest offset</option>
              <option value="latest">latest offset</option>
              <option value="timestamp">a time</option>
              <option value="offset">an offset</option>
            </select>
          </label>
          <label id="reset-time-label" hidden
            >Time<input id="reset-time" type="datetime-local" step="1"
          /></label>
          <label id="reset-offset-label" hidden
            >Offset<input id="reset-offset" type="number" min="0" style="width:120px"
          /></label>
          <label
            >Topics<select id="reset-topic">
              <option value="">every committed partition</option>
            </select></label
          >
          <button type="button" id="reset-preview">Preview</button>
          <button type="submit" class="primary" id="reset-apply">Reset offsets</button>
        </form>
        <div id="reset-result"></div>
      </section>
      <div class="toolbar">
        <span class="spacer"></span><button id="delete-group" class="danger">Delete group</button>
      </div>`,
  );

  let lastTopics = '';
  const refresh = async () => {
    let g;
    try {
      g = await get(path);
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
      return;
    }
    setHtml($('#message'), '');
    addSample(key, Date.now(), g.totalLag);
    setHtml(
      $('#summary'),
      html`${stateBadge(g.state)}
      ${g.protocolType ? `protocol type ${g.protocolType}` : ''}${g.protocol ? `, assignor ${g.protocol}` : ''}`,
    );
    setHtml(
      $('#stats'),
      html`<div class="stat">
          <div class="label">Total lag</div>
          <div class="value" id="total-lag">${fmt(g.totalLag)}</div>
        </div>
        <div class="stat">
          <div class="label">Members</div>
          <div class="value">${fmt(g.members.length)}</div>
        </div>
        <div class="stat">
          <div class="label">Partitions</div>
          <div class="value">${fmt(g.offsets.length)}</div>
        </div>`,
    );
    lineChart($('#chart'), [{ name: 'total lag', color: COLORS[1], points: samples(key) }], {
      unit: 'records',
    });
    const maxLag = Math.max(1, ...g.offsets.map((o) => o.lag ?? 0));
    setHtml(
      $('#offsets tbody'),
      g.offsets.length === 0
        ? html`<tr>
            <td colspan="6" class="empty">No committed offsets.</td>
          </tr>`
        : g.offsets.map(
            (o) =>
              html`<tr>
                <td><a href="#/c/${enc(params.cluster)}/topics/${enc(o.topic)}">${o.topic}</a></td>
                <td class="num">${o.partition}</td>
                <td class="num">${fmt(o.committedOffset)}</td>
                <td class="num">${fmt(o.logEndOffset)}</td>
                <td class="num">
                  ${fmt(o.lag)}<span
                    class="lagbar"
                    style="width:${Math.round(((o.lag ?? 0) / maxLag) * 60)}px"
                  ></span>
                </td>
                <td class="mono">${o.memberId ?? '–'}</td>
              </tr>`,
          ),
    );
    setHtml(
      $('#members tbody'),
      g.members.length === 0
        ? html`<tr>
            <td colspan="4" class="empty">No active members: offsets can be reset.</td>
          </tr>`
        : g.members.map(
            (m) =>
              html`<tr>
                <td class="mono">
                  ${m.memberId}${m.groupInstanceId ? ` (static: ${m.groupInstanceId})` : ''}
                </td>
                <td>${m.clientId}</td>
                <td class="mono">${m.clientHost}</td>
                <td class="mono">
                  ${m.assignment.map((a) => `${a.topic}-${a.partition}`).join(', ') || '–'}
                </td>
              </tr>`,
          ),
    );
    const topics = [...new Set(g.offsets.map((o) => o.topic))].sort();
    if (topics.join(',') !== lastTopics) {
      lastTopics = topics.join(',');
      const chosen = $('#reset-topic').value;
      setHtml(
        $('#reset-topic'),
        html`<option value="">every committed partition</option>
          ${topics.map((t) => html`<option value="${t}" ${t === chosen ? 'selected' : ''}>${t}</option>`)}`,
      );
    }
  };

  $('#reset-to').addEventListener('change', () => {
    $('#reset-time-label').hidden = $('#reset-to').value !== 'timestamp';
    $('#reset-offset-label').hidden = $('#reset-to').value !== 'offset';
  });
  const reset = async (dryRun) => {
    const to = $('#reset-to').value;
    const body = { to, dryRun };
    if (to === 'timestamp') {
      if ($('#reset-time').value === '')
        return setHtml($('#reset-result'), html`<div class="alert">Choose a time.</div>`);
      body.timestamp = new Date($('#reset-time').value).toISOString();
    }
    if (to === 'offset') body.offset = Number($('#reset-offset').value);
    if ($('#reset-topic').value !== '') body.topics = [{ topic: $('#reset-topic').value }];
    try {
      const r = await api('POST', `${path}/reset-offsets`, body);
      setHtml(
        $('#reset-result'),
        html`<div class="alert ${dryRun ? 'info' : 'ok'}">
            ${dryRun ? 'Preview: nothing changed yet.' : 'Offsets reset.'}
          </div>
          <table>
            <thead>
              <tr>
                <th>Topic</th>
                <th class="num">Partition</th>
                <th class="num">Previous</th>
                <th class="num">New</th>
              </tr>
            </thead>
            <tbody>
              ${r.offsets.map(
                (o) =>
                  html`<tr>
                    <td>${o.topic}</td>
                    <td class="num">${o.partition}</td>
                    <td class="num">${fmt(o.previousOffset)}</td>
                    <td class="num">${fmt(o.newOffset)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`,
      );
      if (!dryRun) await refresh();
    } catch (err) {
      setHtml($('#reset-result'), html`<div class="alert">${err.message}</div>`);
    }
  };
  $('#reset-preview').addEventListener('click', () => void reset(true));
  $('#reset').addEventListener('submit', (e) => {
    e.preventDefault();
    void reset(false);
  });
  armed($('#delete-group'), 'Confirm: delete group', async () => {
    try {
      await api('DELETE', path);
      location.hash = `#/c/${enc(params.cluster)}/groups`;
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
    }
  });
  await refresh();
  return { refresh };
}
