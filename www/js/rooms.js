/* rooms.js - the rooms screen: create a room, join one by ID, "My rooms" and
 * "All rooms" (paged with More), refreshed while the screen is on view.
 *
 * It owns the two lists and the paging cursor. What it needs from outside comes in
 * through createRoomsView(): the current token, how to open a room (the chat view)
 * and how to report a failed API call. Room names are shown as text only. */
import { ApiError, myRooms, listRooms, createRoom } from './api.js';
import { $, el, showBanner, hideBanner } from './dom.js';

const PAGE_SIZE = 20;              // rooms per page of "All rooms"
const ROOMS_REFRESH_MS = 15000;    // the lists refresh while they are on screen

/* deps:
 *   token()            the bearer token, null when logged out
 *   enterRoom(id)      joins and opens a room; resolves true when it did
 *   failed(what, e)    reports a failed API call
 * Returns {refresh(quiet), setActive(on), reset()}. */
export function createRoomsView({ token, enterRoom, failed }) {
  let mine = [];
  let mineIds = new Set();
  let all = [];
  let nextCursor = null;
  let refreshTimer = null;

  function roomItem(room, member) {
    const li = el('li', 'room');
    li.dataset.roomId = room.id;
    const info = el('div', 'room-info');
    info.append(el('span', 'room-name', room.name));
    const count = Number(room.memberCount) || 0;
    const meta = el('span', 'room-meta', `${count} ${count === 1 ? 'member' : 'members'} · ID `);
    meta.append(el('code', null, room.id));
    info.append(meta);
    const button = el('button', member ? 'secondary small' : 'primary small', member ? 'Open' : 'Join');
    button.type = 'button';
    button.addEventListener('click', () => enterRoom(room.id));
    li.append(info, button);
    return li;
  }

  function render() {
    $('my-rooms').replaceChildren(...mine.map((r) => roomItem(r, true)));
    $('my-rooms-empty').hidden = mine.length > 0;
    $('all-rooms').replaceChildren(...all.map((r) => roomItem(r, mineIds.has(r.id))));
    $('all-rooms-empty').hidden = all.length > 0;
    $('more-rooms').hidden = !nextCursor;
  }

  // Reloads both lists; "All rooms" keeps as many entries as were on screen. `quiet`
  // (the timer's refreshes) reports nothing but a lost session.
  async function refresh(quiet) {
    const tok = token();
    if (!tok) return;
    const limit = Math.min(100, Math.max(PAGE_SIZE, all.length));
    try {
      const [m, a] = await Promise.all([myRooms(tok), listRooms(tok, limit)]);
      mine = Array.isArray(m && m.rooms) ? m.rooms : [];
      mineIds = new Set(mine.map((r) => r.id));
      all = Array.isArray(a && a.rooms) ? a.rooms : [];
      nextCursor = a && a.next ? a.next : null;
      render();
    } catch (e) {
      if (!quiet || (e instanceof ApiError && e.status === 401)) failed('Could not load the rooms', e);
    }
  }

  async function more() {
    if (!nextCursor) return;
    const button = $('more-rooms');
    button.disabled = true;
    try {
      const page = await listRooms(token(), PAGE_SIZE, nextCursor);
      const seen = new Set(all.map((r) => r.id));
      for (const r of (page && page.rooms) || []) if (!seen.has(r.id)) all.push(r);
      nextCursor = page && page.next ? page.next : null;
      render();
    } catch (e) {
      failed('Could not load more rooms', e);
    } finally {
      button.disabled = false;
    }
  }

  async function onCreateSubmit(ev) {
    ev.preventDefault();
    const name = $('create-name').value.trim();
    if (!name) { showBanner('Enter a name for the room.'); return; }
    const button = $('create-submit');
    button.disabled = true;
    try {
      const room = await createRoom(token(), name);
      hideBanner();
      $('create-name').value = '';
      $('created-name').textContent = room.name;
      $('created-id').textContent = room.id;
      $('created').hidden = false;
      refresh(false);
    } catch (e) {
      failed('Could not create the room', e);
    } finally {
      button.disabled = false;
    }
  }

  async function onJoinSubmit(ev) {
    ev.preventDefault();
    const id = $('join-id').value.trim();
    if (!id) { showBanner('Enter the ID of the room to join.'); return; }
    if (await enterRoom(id)) $('join-id').value = '';
  }

  // The refresh timer runs only while the rooms screen is shown.
  function setActive(on) {
    clearInterval(refreshTimer);
    refreshTimer = null;
    if (on) {
      refreshTimer = setInterval(() => {
        if (!document.hidden) refresh(true);
      }, ROOMS_REFRESH_MS);
    }
  }

  // Forgets the lists (logged out); the page shows them again after the next refresh.
  function reset() {
    mine = [];
    mineIds = new Set();
    all = [];
    nextCursor = null;
  }

  $('create-form').addEventListener('submit', onCreateSubmit);
  $('join-form').addEventListener('submit', onJoinSubmit);
  $('enter-created').addEventListener('click', () => enterRoom($('created-id').textContent));
  $('refresh-rooms').addEventListener('click', () => refresh(false));
  $('more-rooms').addEventListener('click', more);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !$('screen-rooms').hidden) refresh(true);
  });

  return { refresh, setActive, reset };
}
