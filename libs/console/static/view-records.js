// The record viewer: one partition read from an offset, with keys, values and headers.
import { clusterPath, enc, get } from './api.js';
import { $, fmt, fmtTime, html, setHtml } from './dom.js';

/** Text as it is; bytes that are not printable UTF-8 as base64, with a badge saying so. */
function showValue(value, encoding) {
  if (value === null) return html`<span class="badge">null</span>`;
  if (encoding === 'base64')
    return html`<span class="badge warn">base64</span> <span class="mono">${value}</span>`;
  return html`<span class="mono">${value}</span>`;
}

export async function mount(root, { params, query }) {
  const path = `${clusterPath(params.cluster)}/topics/${enc(params.topic)}`;
  const topic = await get(path);
  const partition = Number(query.get('partition') ?? 0);
  setHtml(
    root,
    html`<h1>
        <span class="crumb"
          >${params.cluster} /
          <a href="#/c/${enc(params.cluster)}/topics/${enc(params.topic)}">${params.topic}</a> /</span
        >
        Records
      </h1>
      <p class="lead">
        A partition read from an offset with the console's consumer: keys, values and headers as stored.
      </p>
      <section class="card">
        <form id="read" class="inline-form">
          <label
            >Partition
            <select id="partition">
              ${topic.partitions.map((p) => html`<option value="${p.partition}" ${p.partition === partition ? 'selected' : ''}>${p.partition}</option>`)}
            </select>
          </label>
          <label
            >From offset<input
              id="offset"
              type="number"
              min="0"
              placeholder="log start"
              style="width:130px"
              value="${query.get('offset') ?? ''}"
          /></label>
          <label
            >Records
            <select id="limit">
              <option>20</option>
              <option selected>50</option>
              <option>100</option>
              <option>500</option>
            </select>
          </label>
          <button type="submit" class="primary" id="read-records">Read</button>
          <button type="button" id="newest">Newest</button>
        </form>
        <p class="note" id="range"></p>
        <div id="message"></div>
        <table id="records">
          <thead>
            <tr>
              <th class="num">Offset</th>
              <th>Timestamp</th>
              <th>Key</th>
              <th>Value</th>
              <th>Headers</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td colspan="5" class="empty">Choose a partition and an offset, then Read.</td>
            </tr>
          </tbody>
        </table>
        <div class="pager">
          <button id="older" class="small" disabled>Older</button>
          <button id="newer" class="small" disabled>Newer</button>
        </div>
      </section>`,
  );
  let last = null;

  const read = async (offset) => {
    const p = Number($('#partition').value);
    const limit = Number($('#limit').value);
    const q = new URLSearchParams({ limit: String(limit) });
    if (offset !== null) q.set('offset', String(offset));
    let page;
    try {
      page = await get(`${path}/partitions/${p}/records?${q}`);
    } catch (err) {
      setHtml($('#message'), html`<div class="alert">${err.message}</div>`);
      return;
    }
    setHtml($('#message'), '');
    last = page;
    const first = page.records[0]?.offset;
    setHtml(
      $('#range'),
      html`Partition ${p}: log start ${fmt(page.logStartOffset)}, log end ${fmt(page.logEndOffset)}.
      ${page.records.length === 0 ? 'No records from here.' : `Showing offsets ${fmt(first)} to ${fmt(page.records[page.records.length - 1].offset)}.`}`,
    );
    setHtml(
      $('#records tbody'),
      page.records.length === 0
        ? html`<tr>
            <td colspan="5" class="empty">No records at offset ${fmt(page.nextOffset)} or after it.</td>
          </tr>`
        : page.records.map(
            (r) =>
              html`<tr>
                <td class="num">${r.offset}</td>
                <td class="mono" title="${r.timestamp}">${fmtTime(r.timestamp)}</td>
                <td class="value-cell">${showValue(r.key, r.keyEncoding)}</td>
                <td class="value-cell">${showValue(r.value, r.valueEncoding)}</td>
                <td class="headers">
                  ${r.headers.map((h) => html`<span class="badge">${h.key}=${h.value ?? 'null'}</span>`)}
                </td>
              </tr>`,
          ),
    );
    $('#offset').value = String(first ?? page.nextOffset);
    $('#older').disabled = first === undefined || first <= page.logStartOffset;
    $('#newer').disabled = page.nextOffset >= page.logEndOffset;
  };

  $('#read').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $('#offset').value;
    void read(v === '' ? null : Number(v));
  });
  $('#partition').addEventListener('change', () => {
    $('#offset').value = '';
    void read(null);
  });
  $('#newest').addEventListener('click', () => {
    const p = topic.partitions.find((x) => x.partition === Number($('#partition').value));
    void get(path).then((t) => {
      const end = t.partitions[p.partition].logEndOffset ?? 0;
      void read(Math.max(0, end - Number($('#limit').value)));
    });
  });
  $('#older').addEventListener('click', () => {
    const first = last?.records[0]?.offset ?? last.nextOffset;
    void read(Math.max(last.logStartOffset, first - Number($('#limit').value)));
  });
  $('#newer').addEventListener('click', () => void read(last.nextOffset));
  await read(query.get('offset') === null ? null : Number(query.get('offset')));
}
