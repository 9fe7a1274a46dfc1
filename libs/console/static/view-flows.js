// Mirror flows: state, lag, throughput and checkpoints, with pause, resume and throttle.
import { api, enc, get } from './api.js';
import { $, fmt, fmtRate, fmtTime, html, setHtml, stateBadge } from './dom.js';

export async function mount(root) {
  setHtml(
    root,
    html`<h1>Mirror flows</h1>
      <p class="lead">Each flow copies topics from a source cluster to a target cluster.</p>
      <div id="message"></div>
      <div id="flows"></div>
      <div id="detail"></div>`,
  );
  let open = null;

  const act = async (id, action, body) => {
    try {
      await api('POST', `/api/flows/${enc(id)}/${action}`, body);
      await refresh(true);
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
    }
  };

  const showDetail = async () => {
    if (open === null) return setHtml($('#detail'), '');
    const f = await get(`/api/flows/${enc(open)}`);
    setHtml(
      $('#detail'),
      html`<section class="card">
        <h2>${f.id}: lag per partition</h2>
        <table>
          <thead>
            <tr>
              <th>Source topic</th>
              <th>Target topic</th>
              <th class="num">Partition</th>
              <th class="num">Position</th>
              <th class="num">Source end</th>
              <th class="num">Lag</th>
              <th class="num">Lag (s)</th>
            </tr>
          </thead>
          <tbody>
            ${f.partitions.map(
              (p) =>
                html`<tr>
                  <td>${p.sourceTopic}</td>
                  <td>${p.targetTopic}</td>
                  <td class="num">${p.partition}</td>
                  <td class="num">${fmt(p.position)}</td>
                  <td class="num">${fmt(p.sourceLogEndOffset)}</td>
                  <td class="num">${fmt(p.lagRecords)}</td>
                  <td class="num">${fmtRate(p.lagSeconds)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2 style="margin-top:16px">Recent errors</h2>
        ${
          f.errors.length === 0
            ? html`<p class="note">None.</p>`
            : f.errors.map((e) => html`<div class="alert">${fmtTime(e.at)}: ${e.message}</div>`)
        }
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
            When the replicator runs in this console's process, each flow (for example
            <code>dc1-a -&gt; dc1-agg</code>) is listed here with its state, lag per partition in records and
            seconds, throughput and last checkpoint, and can be paused, resumed and throttled.
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
                        <td>${stateBadge(f.state)}</td>
                        <td class="num">${fmt(f.lagRecords)}</td>
                        <td class="num">${fmtRate(f.lagSeconds)}</td>
                        <td class="num">${fmtRate(f.throughput.recordsPerSecond)}</td>
                        <td>
                          ${f.throttle.recordsPerSecond === null ? 'none' : `${fmt(f.throttle.recordsPerSecond)} rec/s`}
                        </td>
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
        const v = root.querySelector(`[data-rate="${CSS.escape(b.dataset.throttle)}"]`).value;
        void act(b.dataset.throttle, 'throttle', {
          recordsPerSecond: v === '' ? null : Number(v),
          bytesPerSecond: null,
        });
      };
    }
    for (const a of root.querySelectorAll('[data-open]')) {
      a.onclick = (e) => {
        e.preventDefault();
        open = a.dataset.open;
        void showDetail();
      };
    }
    await showDetail();
  };
  await refresh(true);
  return { refresh: () => refresh() };
}
