/* timeline.js - the message log (#log) of the open room, with its history: stored
 * messages (CHAT, FILE) shown once each and in offset order, JOIN/LEAVE and the page's own
 * notices in arrival order. On entry it shows the newest page of the room's history
 * (GET /api/rooms/{id}/messages), scrolled to the top it loads older pages, and it
 * fills every gap from the same call (docs/STOMP.md, "History and recovery").
 *
 * It keeps, per room, the last stored message it showed (session.js), which is where
 * the next subscription resumes (since()). It does not talk STOMP: chat.js hands it
 * the subscription's receipt and messages. Text goes on the page with textContent
 * only. One Timeline per entered room; close() ends it.
 *
 * Opened at a message (`at`, from search), it shows the messages around that offset
 * with that one highlighted, and is "detached" from the newest end until the reader
 * scrolls down to it: newer pages load at the bottom as older ones do at the top, and
 * live messages wait (they are fetched as pages) until the window reaches the newest. */
import { ApiError, roomMessages } from './api.js';
import { $, el, timeElement } from './dom.js';
import { loadPosition, savePosition } from './session.js';
import { fileView } from './files.js';

const PAGE = 50;                   // messages per history page (the API's default)
const FILL_PAGE = 100;             // messages per page when filling a gap (the API's most)
const LOG_MAX = 500;               // rows kept while the reader follows the newest
const RETRY_MS = 3000;             // a failed history call is tried again after this
const TOP_PX = 40;                 // this close to the top loads older messages
const AROUND = 25;                 // messages on each side of the one opened at

export class Timeline {
  /* roomId           the open room
   * token(), user()  the current login
   * gone()           called when the API says the user is no longer a member */
  constructor({ roomId, token, user, gone, at }) {
    this.roomId = roomId;
    this.token = token;
    this.user = user;
    this.gone = gone;
    this.log = $('log');
    this.epoch = null;             // the history shown; null until known
    this.last = 0;                 // every stored message up to this offset was seen
    this.rows = new Map();         // offset → li of the stored messages shown
    this.atStart = false;          // nothing older to load
    this.ready = false;            // the first page is in (or could not be had)
    this.gen = 0;                  // bumped by every reset; stale answers are dropped
    this.reloading = false;
    this.held = [];                // messages that arrived while reloading
    this.filling = false;
    this.fillAgain = false;
    this.loadingOlder = false;
    this.closed = false;
    this.timer = null;
    this.at = Number.isSafeInteger(at) && at > 0 ? at : null;
    this.detached = false;         // showing a window below the newest messages
    this.loadingNewer = false;
    this.onScroll = () => {
      if (this.log.scrollTop < TOP_PX) this.older();
      if (this.detached && this.nearBottom()) this.newer();
    };
    this.log.replaceChildren();
    delete this.log.dataset.at;
    this.log.addEventListener('scroll', this.onScroll);
    this.mark();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.log.removeEventListener('scroll', this.onScroll);
  }

  // Where a subscription resumes: {offset, epoch}, or null when nothing is known.
  since() {
    return this.epoch === null || this.detached ? null : { offset: this.last, epoch: this.epoch };
  }

  // ---- the first page, and starting over ----

  /* Shows the newest page. When the API cannot be reached it resumes from the position
   * kept for the room, if any. Resolves once ready (never rejects). */
  async load() {
    if (this.at !== null && await this.loadAround(this.at)) {
      this.ready = true;
      this.fillScreen();
      return;
    }
    try {
      const page = await roomMessages(this.token(), this.roomId, PAGE);
      if (!this.closed) this.reset(page, false);
    } catch (e) {
      if (this.closed || this.refused(e)) return;
      const pos = loadPosition(this.roomId);
      if (pos) { this.epoch = pos.epoch; this.last = pos.offset; }
      this.notice('Could not load the earlier messages.', 'local');
    }
    this.ready = true;
  }

  /* Replaces the stored messages on screen by `page` (the newest page) and resumes
   * from its newest offset. `cleared`: the log is emptied first (the history changed). */
  reset(page, cleared) {
    this.gen += 1;
    this.detached = false;
    if (cleared) this.log.replaceChildren();
    for (const li of this.rows.values()) li.remove();
    this.rows.clear();
    this.epoch = typeof page.epoch === 'string' ? page.epoch : '';
    const msgs = stored(page.messages);
    this.last = Math.max(Number(page.offset) || 0, ...msgs.map((m) => m.offset));
    this.atStart = msgs.length < PAGE || msgs[0].offset <= 1;
    for (const m of msgs) this.place(m);
    this.log.scrollTop = this.log.scrollHeight;
    this.save();
    this.mark();
    this.fillScreen();
  }

  // Loads the newest page again and starts over from there (the epoch changed, or the
  // first page never came); what arrived meanwhile is applied afterwards.
  async resync() {
    if (this.reloading || this.closed) return;
    this.reloading = true;
    const lost = this.epoch !== null && this.epoch !== '';
    try {
      const page = await roomMessages(this.token(), this.roomId, PAGE);
      if (this.closed) return;
      const changed = lost && page.epoch !== this.epoch;
      this.reset(page, changed);
      if (changed) this.notice('The server lost this room\'s history; showing what it has now.', 'local');
    } catch (e) {
      this.reloading = false;
      if (!this.closed && !this.refused(e)) this.retry();
      return;
    }
    this.reloading = false;
    const held = this.held;
    this.held = [];
    for (const m of held) this.message(m);
  }

  // ---- from the subscription ----

  // The subscription's RECEIPT headers: x-epoch, x-offset, x-recovered.
  receipt(h) {
    if (this.closed) return;
    this.log.dataset.recovered = h['x-recovered'] || '';
    const epoch = h['x-epoch'];
    const newest = Number(h['x-offset']);
    if (this.epoch === null || (typeof epoch === 'string' && epoch !== this.epoch)) {
      this.resync();
    } else if (h['x-recovered'] === 'false' || (h['x-recovered'] === undefined && newest > this.last)) {
      this.fill();
    }
  }

  // A MESSAGE body: stored ones in offset order, once; notices as they come.
  message(m) {
    if (this.closed) return;
    if (m.type === 'JOIN') {
      this.notice(`${m.sender} joined the room`, 'join', m.ts, m.message);
      return;
    }
    if (m.type === 'LEAVE') {
      this.notice(`${m.sender} left the room`, 'leave', m.ts, m.message);
      return;
    }
    if (!isStored(m)) return;
    if (this.reloading || this.epoch === null || m.epoch !== this.epoch) {
      this.held.push(m);
      this.resync();
      return;
    }
    if (m.offset <= this.last || this.rows.has(m.offset)) return;   // seen
    if (this.detached) return;     // beyond the window: newer() fetches it as a page
    const follow = this.atBottom();
    this.place(m);
    this.advance();
    if (follow || this.rows.get(m.offset).classList.contains('own')) {
      this.trim();
      this.log.scrollTop = this.log.scrollHeight;
    }
    if (m.offset > this.last) this.fill();                          // a gap before it
  }

  // ---- gaps ----

  /* Fetches what came after `last` (?after=last), page after page, until nothing is
   * missing below the newest message shown and a page comes back short. One at a time;
   * a call while it runs makes it go round once more. */
  async fill() {
    if (this.filling) { this.fillAgain = true; return; }
    if (this.reloading || this.closed || this.detached) return;
    this.filling = true;
    const gen = this.gen;
    try {
      for (;;) {
        this.fillAgain = false;
        const from = this.last;
        const page = await roomMessages(this.token(), this.roomId, FILL_PAGE, { after: from });
        if (this.closed || gen !== this.gen) return;
        if (page.epoch !== this.epoch) { this.resync(); return; }
        const msgs = stored(page.messages);
        this.insert(msgs);
        if (this.last === from && this.newestShown() > this.last) {
          // Missing even from the stored history (trimmed): nothing more to get.
          this.last = this.newestShown();
          this.save();
        }
        if (msgs.length < FILL_PAGE && !this.fillAgain && this.newestShown() <= this.last) break;
        if (this.last === from && msgs.length === 0) break;
      }
    } catch (e) {
      if (!this.closed && !this.refused(e)) this.retry();
    } finally {
      this.filling = false;
    }
  }

  // Puts stored messages in place (skipping those shown) and advances `last`.
  insert(msgs) {
    const follow = this.atBottom();
    for (const m of msgs) {
      if (m.epoch === this.epoch && m.offset > this.last && !this.rows.has(m.offset)) this.place(m);
    }
    this.advance();
    if (follow) {
      this.trim();
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  // ---- older pages ----

  // Loads the page before the oldest message shown, keeping what is on screen still.
  async older() {
    if (this.loadingOlder || this.atStart || this.reloading || this.closed || !this.ready) return;
    const oldest = this.oldestShown();
    if (oldest === null) { this.atStart = true; this.mark(); return; }
    this.loadingOlder = true;
    this.mark();
    const gen = this.gen;
    try {
      const page = await roomMessages(this.token(), this.roomId, PAGE, { before: oldest });
      if (this.closed || gen !== this.gen) return;
      if (page.epoch !== this.epoch) { this.resync(); return; }
      const msgs = stored(page.messages).filter((m) => m.offset < oldest && !this.rows.has(m.offset));
      const fromBottom = this.log.scrollHeight - this.log.scrollTop;
      for (const m of msgs) this.place(m);
      this.log.scrollTop = this.log.scrollHeight - fromBottom;
      if (msgs.length === 0 || msgs.length < PAGE || msgs[0].offset <= 1) this.atStart = true;
    } catch (e) {
      this.refused(e);
    } finally {
      this.loadingOlder = false;
      this.mark();
    }
    this.fillScreen();
  }

  // While the log does not scroll yet, older (and, detached, newer) messages are
  // loaded until it does.
  fillScreen() {
    if (this.log.scrollHeight > this.log.clientHeight + TOP_PX) return;
    if (!this.atStart) setTimeout(() => this.older(), 0);
    else if (this.detached) setTimeout(() => this.newer(), 0);
  }

  // ---- opened at a message (search) ----

  /* Shows the messages around offset `at` (AROUND each side, one page before and one
   * after), highlights that one and scrolls it into view; detached when newer ones
   * exist. Resolves false when it could not (then load() shows the newest page). */
  async loadAround(at) {
    let before, after;
    try {
      [before, after] = await Promise.all([
        roomMessages(this.token(), this.roomId, AROUND, { before: at + 1 }),
        roomMessages(this.token(), this.roomId, AROUND, { after: at }),
      ]);
    } catch (e) {
      return this.closed || this.refused(e);   // else load() tries the newest page
    }
    if (this.closed) return true;
    if (before.epoch !== after.epoch) return false;
    this.gen += 1;
    this.epoch = typeof before.epoch === 'string' ? before.epoch : '';
    const older = stored(before.messages);
    const msgs = older.concat(stored(after.messages).filter((m) => m.offset > at));
    for (const m of msgs) if (!this.rows.has(m.offset)) this.place(m);
    const newest = Math.max(Number(before.offset) || 0, Number(after.offset) || 0);
    this.last = msgs.length ? msgs[msgs.length - 1].offset : Math.min(at, newest);
    this.atStart = older.length < AROUND || older[0].offset <= 1;
    this.detached = this.last < newest;
    const hit = this.rows.get(at);
    if (hit) {
      hit.classList.add('hit');
      hit.tabIndex = -1;
      this.log.dataset.at = String(at);
      hit.scrollIntoView({ block: 'center' });
      hit.focus({ preventScroll: true });
    } else {
      this.notice('That message is no longer in the history.', 'local');
    }
    this.save();
    this.mark();
    return true;
  }

  // Detached: loads the page after the newest message shown; reattaches at the end.
  async newer() {
    if (!this.detached || this.loadingNewer || this.reloading || this.closed || !this.ready) return;
    this.loadingNewer = true;
    this.mark();
    const gen = this.gen;
    try {
      const page = await roomMessages(this.token(), this.roomId, PAGE, { after: this.last });
      if (this.closed || gen !== this.gen) return;
      if (page.epoch !== this.epoch) { this.resync(); return; }
      const msgs = stored(page.messages);
      for (const m of msgs) if (m.offset > this.last && !this.rows.has(m.offset)) this.place(m);
      this.advance();
      if (msgs.length < PAGE || this.last >= (Number(page.offset) || 0)) {
        this.detached = false;     // at the newest: live messages flow again
        this.fill();
      }
    } catch (e) {
      this.refused(e);
    } finally {
      this.loadingNewer = false;
      this.mark();
    }
    if (this.detached && this.nearBottom()) setTimeout(() => this.newer(), 0);
  }

  nearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < TOP_PX;
  }

  // ---- rows ----

  // A stored message's row, placed before the first stored one with a higher offset
  // (else at the end, after any notices).
  place(m) {
    const me = this.user();
    const own = !!me && m.senderId === me.id;
    const li = el('li', own ? 'msg own' : 'msg');
    if (typeof m.id === 'string') li.dataset.id = m.id;
    li.dataset.offset = String(m.offset);
    const meta = el('div', 'meta');
    meta.append(el('span', 'sender', own ? `${m.sender} (you)` : m.sender), timeElement(m.ts));
    li.append(meta, el('div', 'text', m.message));
    if (m.type === 'FILE') li.append(fileView(m.file, this.token));
    let before = null;
    for (let e = this.log.lastElementChild; e; e = e.previousElementSibling) {
      if (!e.dataset.offset) continue;
      if (Number(e.dataset.offset) < m.offset) break;
      before = e;
    }
    if (before) this.log.insertBefore(li, before);
    else this.log.append(li);
    this.rows.set(m.offset, li);
  }

  // kind: 'join', 'leave', or 'local' for what the page itself has to say.
  notice(text, kind, ts, title) {
    const li = el('li', `notice ${kind}`);
    li.append(el('span', 'notice-text', text), timeElement(ts));
    if (title) li.title = String(title);
    const follow = this.atBottom();
    this.log.append(li);
    if (follow) {
      this.trim();
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  // Moves `last` over the stored messages shown right after it.
  advance() {
    const was = this.last;
    while (this.rows.has(this.last + 1)) this.last += 1;
    if (this.last !== was) this.save();
  }

  // Keeps at most LOG_MAX rows, dropping the oldest (scrolling up loads them again).
  trim() {
    while (this.log.children.length > LOG_MAX) {
      const li = this.log.firstElementChild;
      if (li.dataset.offset) {
        this.rows.delete(Number(li.dataset.offset));
        this.atStart = false;
      }
      li.remove();
    }
    this.mark();
  }

  atBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 60;
  }

  oldestShown() {
    const li = this.log.querySelector('li[data-offset]');
    return li ? Number(li.dataset.offset) : null;
  }

  newestShown() {
    let n = 0;
    for (const k of this.rows.keys()) if (k > n) n = k;
    return n;
  }

  save() {
    if (this.epoch !== null) savePosition(this.roomId, this.last, this.epoch);
  }

  // #log[data-epoch] and #log[data-history] ('loading', 'more' or 'start') for tests and
  // CSS (#log[data-recovered] is the last receipt's x-recovered).
  mark() {
    if (this.closed) return;
    if (this.epoch !== null) this.log.dataset.epoch = this.epoch;
    else delete this.log.dataset.epoch;
    this.log.dataset.history = this.loadingOlder ? 'loading' : (this.atStart ? 'start' : 'more');
    // #log[data-newer]: 'loading' or 'more' while detached (opened at a message), else 'end'
    this.log.dataset.newer = this.loadingNewer ? 'loading' : (this.detached ? 'more' : 'end');
  }

  // A 403/404 (no longer a member, no such room) ends the room; true when it did.
  refused(e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
      if (!this.closed) this.gone();
      return true;
    }
    if (e instanceof ApiError && e.status === 401) return true;   // main.js handles the login
    return false;
  }

  // After a failed call: catch up again a little later, starting over when a reload
  // is still owed (messages held, or nothing known yet), else filling from `last`.
  retry() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.closed) return;
      if (this.held.length || this.epoch === null) this.resync();
      else this.fill();
    }, RETRY_MS);
  }
}

const isStored = (m) => m && Number.isSafeInteger(m.offset) && m.offset > 0
  && typeof m.epoch === 'string';

// The stored messages of an API page, ascending by offset.
function stored(list) {
  return (Array.isArray(list) ? list.filter(isStored) : []).sort((a, b) => a.offset - b.offset);
}
