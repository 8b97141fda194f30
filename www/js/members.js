/* members.js - the open room's member list (#members), with who is online: loaded from
 * GET /api/rooms/{id} (each member carries "online"), then kept live from the room's
 * JOIN and LEAVE notices, and loaded again after every reconnect (notices sent while
 * the page was away were missed). A JOIN of someone not on the list (a new member)
 * loads the list again. Names go on the page with textContent only.
 *
 * It does not talk STOMP: chat.js hands it the room's messages. One Members per
 * entered room; close() ends it. */
import { request } from './api.js';
import { $, el } from './dom.js';

export class Members {
  /* roomId the open room; token() the current login */
  constructor({ roomId, token }) {
    this.roomId = roomId;
    this.token = token;
    this.list = new Map();         // user id → {id, name, online}
    this.closed = false;
    this.gen = 0;                  // bumped by every load; stale answers are dropped
    this.during = null;            // notices that came while a load was under way
    this.render();
  }

  close() {
    this.closed = true;
    $('member-list').replaceChildren();
    $('members-count').textContent = '';
  }

  // (Re)loads the list; failures keep what is shown (the next reconnect tries again).
  async load() {
    const gen = ++this.gen;
    this.during = [];
    let room = null;
    try {
      room = await request(this.token(), 'GET', `/rooms/${encodeURIComponent(this.roomId)}`);
    } catch (e) {
      room = null;
    }
    if (this.closed || gen !== this.gen) return;
    const during = this.during;
    this.during = null;
    if (room && Array.isArray(room.members)) {
      this.list = new Map(room.members.map((m) => [m.id, { id: m.id, name: m.name, online: m.online === true }]));
    }
    // the answer may predate notices that arrived while it was on its way: apply
    // them again, in order, on top of it
    for (const m of during) this.apply(m);
    this.render();
  }

  // A message of the room: JOIN and LEAVE change who is online.
  message(m) {
    if (this.closed || !m || (m.type !== 'JOIN' && m.type !== 'LEAVE')) return;
    if (this.during) { this.during.push(m); return; }
    if (!this.list.has(m.senderId)) {
      if (m.type === 'JOIN') this.load(); // a new member: names come from the API
      return;
    }
    this.apply(m);
    this.render();
  }

  apply(m) {
    const who = this.list.get(m.senderId);
    if (who) who.online = m.type === 'JOIN';
  }

  render() {
    if (this.closed) return;
    const all = [...this.list.values()];
    // online first, then by name (as the API sorts)
    all.sort((a, b) => (b.online - a.online) || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1));
    const items = all.map((m) => {
      const li = el('li', 'member', m.name);
      li.dataset.userId = m.id;
      li.dataset.online = String(m.online);
      li.title = m.online ? `${m.name} is online` : `${m.name} is offline`;
      return li;
    });
    $('member-list').replaceChildren(...items);
    const online = all.filter((m) => m.online).length;
    $('members-count').textContent = all.length ? `${online} of ${all.length} online` : '';
  }
}
