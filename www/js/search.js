/* search.js - the search box in the top bar and its results panel (GET /api/search,
 * docs/API.md): a query, a scope (this room / all my rooms), results with the room
 * name, the sender, the time and the snippet with the matched ranges marked, "More"
 * for the next page. Choosing a result opens its room at that message.
 *
 * The snippet is built from text nodes and <mark> elements only: the ranges are
 * code-point offsets into it (as the server counts), so it is split with Array.from,
 * never with UTF-16 indexes, and never parsed as HTML. Keyboard: Enter searches,
 * ArrowDown goes into the results, ArrowUp/ArrowDown move between them, Enter or Space
 * opens one, Escape closes the panel and returns to the box.
 *
 * What it needs comes in through createSearchView(); it keeps only the open query. */
import { ApiError, searchMessages, myRooms } from './api.js';
import { $, el, codePoints, sentence, timeElement } from './dom.js';

const PAGE = 20;                   // results per page (the API's default)
const MAX_QUERY = 200;             // code points (the API's limit)

/* deps:
 *   token()             the bearer token, null when logged out
 *   room()              the open room ({id, name}) or null
 *   openAt(id, offset)  opens room id at the stored message with that offset
 *   failed(what, e)     reports a failed call that is not about the query (401, network)
 * Returns {setActive(on), reset(), close()}. */
export function createSearchView({ token, room, openAt, failed }) {
  let query = null;                // {q, roomId} of the results shown
  let next = null;                 // cursor of the next page
  let names = new Map();           // room id -> name, for the results
  let busy = false;

  const form = $('search-form');
  const input = $('search-q');
  const scope = $('search-scope');
  const panel = $('search-panel');
  const list = $('search-results');
  const status = $('search-status');
  const more = $('search-more');

  function setStatus(text) { status.textContent = text; }

  // "This room" only while a room is open.
  function updateScope() {
    const r = room();
    const opt = scope.querySelector('option[value="room"]');
    opt.disabled = !r;
    opt.textContent = r ? `This room (${r.name})` : 'This room';
    if (!r && scope.value === 'room') scope.value = 'all';
  }

  function close() {
    panel.hidden = true;
    form.dataset.open = '';
  }

  // The snippet as text nodes and <mark>s; ranges are [start, end) code points.
  function snippetNode(snippet, ranges) {
    const cps = Array.from(String(snippet));
    const div = el('div', 'search-snippet');
    let at = 0;
    const spans = (Array.isArray(ranges) ? ranges : [])
      .filter((r) => Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] < r[1])
      .sort((a, b) => a[0] - b[0]);
    for (const [s0, e0] of spans) {
      const s = Math.max(at, Math.min(s0, cps.length));
      const e = Math.min(e0, cps.length);
      if (e <= s) continue;
      if (s > at) div.append(document.createTextNode(cps.slice(at, s).join('')));
      div.append(el('mark', null, cps.slice(s, e).join('')));
      at = e;
    }
    if (at < cps.length) div.append(document.createTextNode(cps.slice(at).join('')));
    return div;
  }

  function resultItem(r) {
    const m = r.message || {};
    const li = el('li', 'search-result');
    const b = el('button', 'search-hit');
    b.type = 'button';
    b.dataset.roomId = String(m.roomId || '');
    b.dataset.offset = String(m.offset || '');
    const head = el('div', 'search-meta');
    head.append(el('span', 'search-room', names.get(m.roomId) || m.roomId || ''),
      el('span', 'search-sender', m.sender || ''), timeElement(m.ts));
    b.append(head, snippetNode(r.snippet, r.ranges));
    b.addEventListener('click', () => choose(m));
    li.append(b);
    return li;
  }

  function choose(m) {
    if (!m || !m.roomId || !Number.isSafeInteger(m.offset)) return;
    close();
    openAt(m.roomId, m.offset);
  }

  async function roomNames(tok) {
    try {
      const data = await myRooms(tok);
      names = new Map((data && Array.isArray(data.rooms) ? data.rooms : []).map((r) => [r.id, r.name]));
    } catch (e) { /* names are a nicety: ids are shown instead */ }
  }

  // Runs the query in the box (page 1), or the next page of the one shown.
  async function run(nextPage) {
    const tok = token();
    if (!tok || busy) return;
    let q;
    if (nextPage) {
      if (!query || !next) return;
      q = query;
    } else {
      const text = input.value.trim();
      if (!text) { input.focus(); return; }
      if (codePoints(text) > MAX_QUERY) {
        panel.hidden = false;
        list.replaceChildren();
        more.hidden = true;
        setStatus(`Search for at most ${MAX_QUERY} characters.`);
        return;
      }
      const r = room();
      q = { q: text, roomId: scope.value === 'room' && r ? r.id : null };
      query = q;
      next = null;
      list.replaceChildren();
    }
    busy = true;
    panel.hidden = false;
    form.dataset.open = 'true';
    setStatus('Searching…');
    more.hidden = true;
    try {
      const [page] = await Promise.all([
        searchMessages(tok, q.q, { roomId: q.roomId, limit: PAGE, cursor: nextPage ? next : null }),
        nextPage ? null : roomNames(tok),
      ]);
      if (query !== q) return;
      const results = Array.isArray(page && page.results) ? page.results : [];
      list.append(...results.map(resultItem));
      next = page && typeof page.next === 'string' ? page.next : null;
      more.hidden = !next;
      const n = list.children.length;
      setStatus(n === 0 ? 'No messages found.' : `${n}${next ? '+' : ''} ${n === 1 ? 'message' : 'messages'} found.`);
      panel.dataset.query = q.q;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 422 || e.status === 403 || e.status === 404 || e.status === 503)) {
        setStatus(sentence(e.message));
      } else {
        setStatus('The search failed.');
        failed('Search failed', e);
      }
    } finally {
      busy = false;
    }
  }

  // ---- keyboard ----
  const hits = () => [...list.querySelectorAll('button.search-hit')];

  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && !panel.hidden) {
      const first = hits()[0];
      if (first) { e.preventDefault(); first.focus(); }
    } else if (e.key === 'Escape') {
      close();
    }
  });
  panel.addEventListener('keydown', (e) => {
    const all = hits();
    const i = all.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' && i >= 0) {
      e.preventDefault();
      (all[i + 1] || (more.hidden ? all[i] : more)).focus();
    } else if (e.key === 'ArrowUp' && i >= 0) {
      e.preventDefault();
      (i === 0 ? input : all[i - 1]).focus();
    } else if (e.key === 'ArrowUp' && document.activeElement === more && all.length) {
      e.preventDefault();
      all[all.length - 1].focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
      input.focus();
    }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); run(false); });
  scope.addEventListener('focus', updateScope);
  more.addEventListener('click', () => run(true));
  $('search-close').addEventListener('click', () => { close(); input.focus(); });

  return {
    // Logged in (shown) or not; called on every screen change too.
    setActive(on) {
      form.hidden = !on;
      if (!on) close();
      updateScope();
    },
    reset() {
      query = null;
      next = null;
      input.value = '';
      list.replaceChildren();
      close();
      form.hidden = true;
    },
    close,
  };
}
