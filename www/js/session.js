/* session.js - the login kept in sessionStorage, so a reload keeps the user logged in
 * and in the room they were in, and, per room, the last stored message the page showed
 * (its offset and epoch: where recovery starts after a reconnect).
 *
 * sessionStorage is per tab: every tab logs in by itself and has its own token.
 * Nothing here checks that the token still works; that is the caller's job. */

const SESSION_KEY = 'chat.session';
const ROOM_KEY = 'chat.room';
const POS_PREFIX = 'chat.pos.';    // + room id: {offset, epoch}

// The stored {token, user}, or null when there is none or it is malformed.
export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (s && typeof s.token === 'string' && s.user && typeof s.user.id === 'string') return s;
  } catch (e) { /* not ours or damaged: as if there were none */ }
  return null;
}

export function saveSession(token, user) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token, user }));
}

// Forgets the login, the room and every room's position.
export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
  sessionStorage.removeItem(ROOM_KEY);
  for (let i = sessionStorage.length - 1; i >= 0; i--) {
    const k = sessionStorage.key(i);
    if (k && k.startsWith(POS_PREFIX)) sessionStorage.removeItem(k);
  }
}

// The room the chat screen shows, reopened after a reload.
export const loadRoom = () => sessionStorage.getItem(ROOM_KEY);
export const saveRoom = (id) => sessionStorage.setItem(ROOM_KEY, id);
export const forgetRoom = () => sessionStorage.removeItem(ROOM_KEY);

/* The last stored message the page saw in a room: {offset, epoch} (docs/STOMP.md,
 * "History and recovery"), or null when there is none or it is malformed. */
export function loadPosition(roomId) {
  try {
    const p = JSON.parse(sessionStorage.getItem(POS_PREFIX + roomId) || 'null');
    if (p && Number.isSafeInteger(p.offset) && p.offset >= 0 && typeof p.epoch === 'string') return p;
  } catch (e) { /* as if there were none */ }
  return null;
}

export const savePosition = (roomId, offset, epoch) =>
  sessionStorage.setItem(POS_PREFIX + roomId, JSON.stringify({ offset, epoch }));
