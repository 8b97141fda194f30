/* session.js - the login kept in sessionStorage, so a reload keeps the user logged in
 * and in the room they were in.
 *
 * sessionStorage is per tab: every tab logs in by itself and has its own token.
 * Nothing here checks that the token still works; that is the caller's job. */

const SESSION_KEY = 'chat.session';
const ROOM_KEY = 'chat.room';

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

// Forgets the login and the room.
export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
  sessionStorage.removeItem(ROOM_KEY);
}

// The room the chat screen shows, reopened after a reload.
export const loadRoom = () => sessionStorage.getItem(ROOM_KEY);
export const saveRoom = (id) => sessionStorage.setItem(ROOM_KEY, id);
export const forgetRoom = () => sessionStorage.removeItem(ROOM_KEY);
