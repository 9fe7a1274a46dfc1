// Mirror flows: state, true lag, throughput and checkpoints, with pause, resume and throttle;
// the workers and the units each runs; promote, failover, reverse and failback per flow.
import { api, enc, get } from './api.js';
import { $, armed, fmt, fmtRate, fmtTime, html, setHtml, stateBadge } from './dom.js';

const list = (text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

function throttleText(t) {
  const parts = [];
  if (t.recordsPerSecond !== null) parts.push(`${fmt(t.recordsPerSecond)} rec/s`);
  if (t.bytesPerSecond !== null) parts.push(`${fmt(t.bytesPerSecond)} B/s`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function reportView(r) {
  return html`<div class="card" id="move-report">
    <h2>${r.action} of ${r.flow}: done in ${fmt(r.durationMs)} ms</h2>
    <table>
      <thead>
        <tr>
          <th>Topic</th>
          <th>Target topic</th>
          <th class="num">Partition</th>
          <th class="num">Target end</th>
          <th class="num">Source end</th>
          <th class="num">Behind</th>
        </tr>
      </thead>
      <tbody>
        ${r.topics.flatMap((t) =>
          t.partitions.map(
            (p) =>
              html`<tr>
                <td>${t.topic}${t.sourceFenced ? ' (source fenced)' : ''}</td>
                <td>${t.targetTopic}</td>
                <td class="num">${p.partition}</td>
                <td class="num">${fmt(p.targetEnd)}</td>
                <td class="num">${fmt(p.sourceEnd)}</td>
                <td class="num">${fmt(p.behind)}</td>
              </tr>`,
          ),
        )}
      </tbody>
    </table>
    ${r.groups.map(
      (g) =>
        html`<p class="note">
          Group ${g.group}:
          ${g.skipped ?? g.offsets.map((o) => `${o.topic}-${o.partition} at ${o.offset}`).join(', ')}
        </p>`,
    )}
  </div>`;
}

export async function mount(root) {
  setHtml(
    root,
    html`<h1>Mirror flows</h1>
      <p class="lead">Each flow copies topics from a source cluster to a target cluster.</p>
      <div id="message"></div>
      <div id="flows"></div>
      <div id="workers"></div>
      <div id="detail"></div>
      <div id="report"></div>`,
  );
  let open = null;
  const fail = (err) => setHtml($('#message'), html`<div class="alert">${err.message}</div>`);

  const act = async (id, action, body) => {
    try {
      setHtml($('#message'), '');
      const result = await api('POST', `/api/flows/${enc(id)}/${action}`, body);
      if (result?.action !== undefined) setHtml($('#report'), reportView(result));
      await refresh(true);
    } catch (err) {
      fail(err);
    }
  };

  const showDetail = async () => {
    if (open === null) return setHtml($('#detail'), '');
    const f = await get(`/api/flows/${enc(open)}`);
    // What was typed survives the redraw.
    const typed = { topics: $('#move-topics')?.value ?? '', groups: $('#move-groups')?.value ?? '' };
    const promoted = f.topicStates.filter((t) => t.state === 'promoted').map((t) => t.topic);
    const reversed = f.topicStates.filter((t) => t.state === 'reversed').map((t) => t.topic);
    setHtml(
      $('#detail'),
      html`<section class="card" id="flow-detail">
        <h2>${f.id}: lag per partition</h2>
        <table>
          <thead>
            <tr>
              <th>Source topic</th>
              <th>Target topic</th>
              <th class="num">Partition</th>
              <th>State</th>
              <th class="num">Position</th>
              <th class="num">Source end</th>
              <th class="num">Lag</th>
              <th class="num">Lag (s)</th>
              <th>Worker</th>
            </tr>
          </thead>
          <tbody>
            ${f.partitions.map(
              (p) =>
                html`<tr>
                  <td>${p.sourceTopic}</td>
                  <td>${p.targetTopic}</td>
                  <td class="num">${p.partition}</td>
                  <td>
                    ${stateBadge(p.state)}${p.direction === 'reverse' ? ' ←' : ''}
                    ${p.error ? html`<div class="alert small">${p.error.message}</div>` : ''}
                  </td>
                  <td class="num">${fmt(p.position)}</td>
                  <td class="num">${fmt(p.sourceLogEndOffset)}</td>
                  <td class="num">${fmt(p.lagRecords)}</td>
                  <td class="num">${fmtRate(p.lagSeconds)}</td>
                  <td>${p.worker ?? '–'}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2 style="margin-top:16px">Fail over</h2>
        ${f.topicStates.map(
          (t) =>
            html`<p class="note">
              ${t.topic} → ${t.targetTopic}: ${t.state} (${t.kind}) at ${fmtTime(t.at)}
            </p>`,
        )}
        <p class="note">
          Promote: the source is up (its producers are fenced, nothing is lost). Failover: the source is gone.
          Reverse copies what is written to promoted topics back; failback returns to the source.
        </p>
        <label>Topics <input id="move-topics" placeholder="all" aria-label="Topics to move" /></label>
        <label
          >Groups <input id="move-groups" placeholder="all checkpointed" aria-label="Groups to move"
        /></label>
        <div class="actions">
          <button class="small" id="promote">Promote</button>
          <button class="small" id="failover">Failover</button>
          ${promoted.length > 0 ? html`<button class="small" id="reverse">Reverse</button>` : ''}
          ${reversed.length > 0 ? html`<button class="small" id="failback">Failback</button>` : ''}
        </div>
        <h2 style="margin-top:16px">Recent errors</h2>
        ${
          f.errors.length === 0
            ? html`<p class="note">None.</p>`
            : f.errors.map((e) => html`<div class="alert">${fmtTime(e.at)}: ${e.message}</div>`)
        }
      </section>`,
    );
    $('#move-topics').value = typed.topics;
    $('#move-groups').value = typed.groups;
    const body = (withGroups) => {
      const topics = list($('#move-topics').value);
      const groups = list($('#move-groups').value);
      return {
        ...(topics.length > 0 ? { topics } : {}),
        ...(withGroups && groups.length > 0 ? { groups } : {}),
      };
    };
    const id = f.id;
    armed($('#promote'), 'Confirm promote', () => act(id, 'promote', body(true)));
    armed($('#failover'), 'Confirm failover', () => act(id, 'failover', body(true)));
    if (promoted.length > 0) armed($('#reverse'), 'Confirm reverse', () => act(id, 'reverse', body(false)));
    if (reversed.length > 0) armed($('#failback'), 'Confirm failback', () => act(id, 'failback', body(true)));
  };

  const showWorkers = async () => {
    const w = await get('/api/mirror/workers');
    if (!w.mirror.configured) return setHtml($('#workers'), '');
    setHtml(
      $('#workers'),
      html`<section class="card">
        <h2>Workers</h2>
        <table id="worker-table">
          <thead>
            <tr>
              <th>Worker</th>
              <th>Host</th>
              <th class="num">PID</th>
              <th class="num">Uptime (s)</th>
              <th class="num">Units</th>
            </tr>
          </thead>
          <tbody>
            ${
              w.items.length === 0
                ? html`<tr>
                    <td colspan="5" class="empty">No worker has reported in the last 10 seconds.</td>
                  </tr>`
                : w.items.map(
                    (x) =>
                      html`<tr>
                        <td>${x.id}</td>
                        <td>${x.host}</td>
                        <td class="num">${x.pid}</td>
                        <td class="num">${fmt(x.uptimeSeconds)}</td>
                        <td class="num" title="${x.units.join('\n')}">${fmt(x.units.length)}</td>
                      </tr>`,
                  )
            }
          </tbody>
        </table>
      </section>`,
    );
  };

  let shown = '';
  const refresh = async (force = false) => {
    const r = await get('/api/flows');
    // Redraw only on change, so a throttle being typed is not wiped out.
    const key = JSON.stringify(r);
    if (!force && key === shown) return;
    shown = key;
    if (!r.mirror.configured) {
      setHtml(
        $('#flows'),
        html`<section class="card">
          <h2>No mirror is configured</h2>
          <p class="note" style="margin:0">The console answered: “${r.mirror.message}”.</p>
          <p class="note">
            Attach the console to the replicator's workers (a <code>mirror:</code> section in its config, or
            <code>tributary console --config</code> with the workers' mirror config) to list each flow here
            with its state, lag per partition in records and seconds, throughput and last checkpoint, and to
            pause, resume, throttle, promote and fail it over.
          </p>
        </section>`,
      );
      return;
    }
    setHtml(
      $('#flows'),
      html`<section class="card">
        <table id="flow-table">
          <thead>
            <tr>
              <th>Flow</th>
              <th>State</th>
              <th class="num">Lag</th>
              <th class="num">Lag (s)</th>
              <th class="num">Records/s</th>
              <th>Throttle</th>
              <th>Last checkpoint</th>
              <th class="num">Errors</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${
              r.items.length === 0
                ? html`<tr>
                    <td colspan="9" class="empty">The mirror has no flows.</td>
                  </tr>`
                : r.items.map(
                    (f) =>
                      html`<tr>
                        <td><a href="#/flows" data-open="${f.id}">${f.source} → ${f.target}</a></td>
                        <td>
                          ${stateBadge(f.state)}
                          ${f.partitionsInError > 0 ? html` <span class="alert small">${f.partitionsInError} stuck</span>` : ''}
                        </td>
                        <td class="num">${fmt(f.lagRecords)}</td>
                        <td class="num">${fmtRate(f.lagSeconds)}</td>
                        <td class="num">${fmtRate(f.throughput.recordsPerSecond)}</td>
                        <td>${throttleText(f.throttle)}</td>
                        <td>${f.lastCheckpoint ? fmtTime(f.lastCheckpoint.at) : '–'}</td>
                        <td class="num">${fmt(f.errorCount)}</td>
                        <td class="num">
                          ${
                            f.state === 'paused'
                              ? html`<button class="small" data-resume="${f.id}">Resume</button>`
                              : html`<button class="small" data-pause="${f.id}">Pause</button>`
                          }
                          <input
                            type="number"
                            min="1"
                            placeholder="rec/s"
                            style="width:80px"
                            data-rate="${f.id}"
                            aria-label="Throttle ${f.id}"
                          />
                          <input
                            type="number"
                            min="1"
                            placeholder="B/s"
                            style="width:90px"
                            data-bytes="${f.id}"
                            aria-label="Byte throttle ${f.id}"
                          />
                          <button class="small" data-throttle="${f.id}">Throttle</button>
                        </td>
                      </tr>`,
                  )
            }
          </tbody>
        </table>
      </section>`,
    );
    for (const b of root.querySelectorAll('[data-pause]'))
      b.onclick = () => void act(b.dataset.pause, 'pause');
    for (const b of root.querySelectorAll('[data-resume]'))
      b.onclick = () => void act(b.dataset.resume, 'resume');
    for (const b of root.querySelectorAll('[data-throttle]')) {
      b.onclick = () => {
        const id = CSS.escape(b.dataset.throttle);
        const rate = root.querySelector(`[data-rate="${id}"]`).value;
        const bytes = root.querySelector(`[data-bytes="${id}"]`).value;
        void act(b.dataset.throttle, 'throttle', {
          recordsPerSecond: rate === '' ? null : Number(rate),
          bytesPerSecond: bytes === '' ? null : Number(bytes),
        });
      };
    }
    for (const a of root.querySelectorAll('[data-open]')) {
      a.onclick = (e) => {
        e.preventDefault();
        open = a.dataset.open;
        void showDetail().catch(fail);
      };
    }
    await Promise.all([showWorkers(), showDetail()]);
  };
  await refresh(true);
  return { refresh: () => refresh() };
}
