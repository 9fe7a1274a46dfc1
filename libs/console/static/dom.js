// Small DOM helpers: templates that escape what they interpolate, number formats.

class Html {
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return esc(value);
}

/** A template whose interpolations are escaped (nested html`` templates are kept as they are). */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1];
  });
  return new Html(out);
}

/** Markup built here from escaped parts (SVG drawn from numbers), kept as it is. */
export const raw = (text) => new Html(text);

export function setHtml(el, content) {
  el.innerHTML = render(content);
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function fmt(n) {
  if (n === null || n === undefined) return '–';
  return Number(n).toLocaleString('en-US');
}

export function fmtRate(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  if (n >= 100) return fmt(Math.round(n));
  return n.toFixed(1);
}

export function fmtTime(ms) {
  const d = new Date(ms);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 23)}`;
}

/** A button that asks once more before acting: the first click arms it, the second runs. */
export function armed(button, label, action) {
  const original = button.textContent;
  let timer = null;
  button.addEventListener('click', async () => {
    if (!button.classList.contains('confirming')) {
      button.classList.add('confirming');
      button.textContent = label;
      timer = setTimeout(() => {
        button.classList.remove('confirming');
        button.textContent = original;
      }, 4000);
      return;
    }
    clearTimeout(timer);
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
      button.classList.remove('confirming');
      button.textContent = original;
    }
  });
}

export function stateBadge(state) {
  const cls =
    {
      Stable: 'ok',
      running: 'ok',
      Empty: '',
      PreparingRebalance: 'warn',
      CompletingRebalance: 'warn',
      paused: 'warn',
      starting: 'info',
      Dead: 'bad',
      failing: 'bad',
      stopped: '',
      copying: 'ok',
      error: 'bad',
      promoted: 'info',
      waiting: '',
    }[state] ?? '';
  return html`<span class="badge ${cls}">${state ?? 'unknown'}</span>`;
}
