// The REST API, as the dashboard calls it: JSON in, JSON out, errors carry the API's message.
// A console with security answers 401 without a bearer token: the dashboard then asks for
// one, keeps it in sessionStorage (gone when the tab closes) and sends it on every call.
import { $, html, setHtml } from './dom.js';

const TOKEN_KEY = 'tributary.console.token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const storedToken = () => sessionStorage.getItem(TOKEN_KEY);

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

let asking = null;

/** Shows the token form once, however many calls were refused meanwhile; resolves when a token is given. */
function askForToken(message) {
  asking ??= new Promise((resolve) => {
    const box = document.createElement('div');
    box.id = 'token-prompt';
    box.className = 'overlay';
    setHtml(
      box,
      html`<form class="card token-card" autocomplete="off">
        <h2>This console needs a token</h2>
        <p class="note">${message}</p>
        <label for="token-input">Bearer token</label>
        <input id="token-input" type="password" spellcheck="false" required />
        <p class="note">Kept in this tab only (sessionStorage) and sent as Authorization: Bearer.</p>
        <div class="actions"><button class="primary" id="token-submit" type="submit">Use token</button></div>
      </form>`,
    );
    document.body.append(box);
    const input = $('#token-input', box);
    input.focus();
    $('form', box).addEventListener('submit', (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === '') return;
      sessionStorage.setItem(TOKEN_KEY, token);
      box.remove();
      showSignedIn();
      asking = null;
      resolve();
    });
  });
  return asking;
}

/** The top bar's "Forget token" link, shown while a token is kept. */
export function showSignedIn() {
  const link = $('#forget-token');
  if (link) link.hidden = storedToken() === null;
}

export async function api(method, path, body) {
  for (;;) {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    const token = storedToken();
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const data = text === '' ? null : JSON.parse(text);
    if (res.status === 401) {
      if (token !== null && storedToken() === token) forgetToken();
      await askForToken(data?.message ?? 'Give a bearer token to continue.');
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }
}

export const get = (path) => api('GET', path);
export const enc = encodeURIComponent;
export const clusterPath = (alias) => `/api/clusters/${enc(alias)}`;
