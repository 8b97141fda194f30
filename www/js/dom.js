/* dom.js - page-wide DOM helpers: element builder, banner, screens, connection badge,
 * times and copy buttons.
 *
 * Everything here puts text on the page with textContent, never as HTML, so callers
 * can hand it anything that came from a user or the server. It keeps no state of its
 * own beyond what is on the page. */

export const $ = (id) => document.getElementById(id);

// Length as the server counts it: Unicode code points, not UTF-16 units.
export const codePoints = (s) => [...s].length;

// A new element with an optional class and text (as text, never markup).
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// Ends a message from the server or a library with a full stop, if it has none.
export function sentence(s) {
  s = String(s).trim();
  if (!s) return 'unknown error.';
  return /[.!?]$/.test(s) ? s : s + '.';
}

export function showBanner(text, kind = 'error') {
  $('banner-text').textContent = text;
  $('banner').dataset.kind = kind;
  $('banner').hidden = false;
}

export function hideBanner() { $('banner').hidden = true; }

// Shows one of the three screens (login, rooms, chat); body[data-screen] is for CSS.
export function showScreen(name) {
  for (const s of ['login', 'rooms', 'chat']) $('screen-' + s).hidden = s !== name;
  document.body.dataset.screen = name;
}

const CONN_WORDS = {
  offline: 'Offline',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
};

// The connection badge in the top bar: data-state is one of the CONN_WORDS keys.
export function showConn(state) {
  const c = $('conn');
  c.dataset.state = state;
  c.textContent = CONN_WORDS[state];
  c.title = state === 'connected' && c.dataset.transport
    ? `Connected to the chat server (${c.dataset.transport === 'sockjs' ? 'SockJS' : 'WebSocket'})`
    : CONN_WORDS[state];
}

// Which transport the badge names once connected: 'sockjs' or 'websocket'.
export function showTransport(transport) {
  $('conn').dataset.transport = transport;
}

const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
  { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
  { dateStyle: 'medium', timeStyle: 'medium' });

// A <time> for a Unix-millisecond timestamp (now when it is missing or bad).
export function timeElement(ts) {
  let d = new Date(typeof ts === 'number' ? ts : Date.now());
  if (Number.isNaN(d.getTime())) d = new Date();
  const t = el('time', 'time', timeFormat.format(d));
  t.dateTime = d.toISOString();
  t.title = dateTimeFormat.format(d);
  return t;
}

// A button[data-copy] copies the text of the element whose id it names.
export async function copyFrom(button) {
  const text = $(button.dataset.copy).textContent;
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch (e) {
    // No clipboard API (plain http on another host, or no permission): the old way.
    const t = document.createElement('textarea');
    t.value = text;
    t.setAttribute('readonly', '');
    t.style.position = 'fixed';
    t.style.opacity = '0';
    document.body.append(t);
    t.select();
    try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
    t.remove();
  }
  const label = button.textContent;
  button.textContent = ok ? 'Copied' : 'Copy failed';
  setTimeout(() => { button.textContent = label; }, 1500);
}
