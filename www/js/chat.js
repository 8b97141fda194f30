/* chat.js - the chat screen of one room: entering and leaving it, the message log
 * (chat lines, JOIN/LEAVE notices, the page's own notices) and the composer with its
 * 1000-code-point counter.
 *
 * It owns which room is open. The STOMP link, the token, the user and how to go back
 * to the rooms screen come in through createChatView(). Message text and names are
 * put on the page with textContent only. */
import { ApiError, joinRoom, leaveRoom } from './api.js';
import { $, el, codePoints, showBanner, hideBanner, timeElement } from './dom.js';
import { saveRoom, forgetRoom } from './session.js';

const MAX_MESSAGE = 1000;          // code points, as the server counts them
const LOG_MAX = 500;               // messages kept on screen

/* deps:
 *   link               the Link (link.js)
 *   token(), user()    the current login, null when logged out
 *   showChat()         switches to the chat screen
 *   showRooms()        switches to the rooms screen
 *   failed(what, e)    reports a failed API call
 * Returns the view; main.js forwards the link's hooks to its on...() methods. */
export function createChatView({ link, token, user, showChat, showRooms, failed }) {
  let room = null;                 // the open room: {id, name, ...}

  // ---- the message log ----
  function appendToLog(li) {
    const log = $('log');
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
    log.append(li);
    while (log.children.length > LOG_MAX) log.firstElementChild.remove();
    if (atBottom || li.classList.contains('own')) log.scrollTop = log.scrollHeight;
  }

  function addChat(m) {
    const me = user();
    const own = !!me && m.senderId === me.id;
    const li = el('li', own ? 'msg own' : 'msg');
    if (typeof m.id === 'string') li.dataset.id = m.id;
    const meta = el('div', 'meta');
    meta.append(el('span', 'sender', own ? `${m.sender} (you)` : m.sender), timeElement(m.ts));
    li.append(meta, el('div', 'text', m.message));
    appendToLog(li);
  }

  // kind: 'join', 'leave', or 'local' for what the page itself has to say.
  function addNotice(text, kind, ts, title) {
    const li = el('li', `notice ${kind}`);
    li.append(el('span', 'notice-text', text), timeElement(ts));
    if (title) li.title = String(title);
    appendToLog(li);
  }

  function onRoomMessage(roomId, m) {
    if (!room || room.id !== roomId) return;
    if (m.type === 'CHAT') addChat(m);
    else if (m.type === 'JOIN') addNotice(`${m.sender} joined the room`, 'join', m.ts, m.message);
    else if (m.type === 'LEAVE') addNotice(`${m.sender} left the room`, 'leave', m.ts, m.message);
  }

  function subscribe() {
    if (!room || link.subscribed) return;
    const id = room.id;
    link.subscribe(id, (m) => onRoomMessage(id, m));
  }

  // ---- entering and leaving ----

  // Joins (harmless when already a member) and opens the chat screen; resolves
  // whether it did.
  async function enter(id) {
    let joined;
    try {
      joined = await joinRoom(token(), id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) showBanner('There is no room with that ID.');
      else failed('Could not join the room', e);
      return false;
    }
    hideBanner();
    if (room && room.id !== joined.id) link.unsubscribe();
    room = joined;
    saveRoom(room.id);
    $('room-name').textContent = room.name;
    $('room-id').textContent = room.id;
    $('log').replaceChildren();
    showChat();
    updateComposer();
    $('message-input').focus();
    subscribe();
    return true;
  }

  // Back to the rooms screen, still a member.
  function exit() {
    link.unsubscribe();
    room = null;
    forgetRoom();
    showRooms();
  }

  async function leave() {
    const left = room;
    if (!left) return;
    const button = $('leave-room');
    button.disabled = true;
    link.unsubscribe();
    try {
      await leaveRoom(token(), left.id);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) failed('Could not leave the room', e);
    } finally {
      button.disabled = false;
    }
    if (token()) exit();
  }

  // ---- composer ----
  function enforceLimit() {
    const input = $('message-input');
    const cps = [...input.value];
    if (cps.length > MAX_MESSAGE) {
      input.value = cps.slice(0, MAX_MESSAGE).join('');
      $('counter').classList.add('flash');
      setTimeout(() => $('counter').classList.remove('flash'), 600);
    }
    updateComposer();
  }

  // The counter, and Send enabled only when connected, in a room and with text.
  function updateComposer() {
    const input = $('message-input');
    const n = codePoints(input.value);
    const counter = $('counter');
    counter.textContent = `${n} / ${MAX_MESSAGE}`;
    counter.classList.toggle('full', n >= MAX_MESSAGE);
    counter.title = n >= MAX_MESSAGE ? `Messages are limited to ${MAX_MESSAGE} characters.` : '';
    $('send').disabled = !link.connected || !room || !input.value.trim() || n > MAX_MESSAGE;
  }

  function send() {
    const input = $('message-input');
    const text = input.value;
    if (!text.trim() || codePoints(text) > MAX_MESSAGE) return;
    if (!room || !link.connected) {
      showBanner('Not connected to the chat server yet; your message is kept. Try again in a moment.');
      return;
    }
    try {
      link.send(room.id, text);
    } catch (e) {
      showBanner('The message could not be sent; the connection dropped. Try again in a moment.');
      return;
    }
    input.value = '';
    updateComposer();
    input.focus();
  }

  $('back-to-rooms').addEventListener('click', exit);
  $('leave-room').addEventListener('click', leave);
  const input = $('message-input');
  input.addEventListener('input', (e) => { if (!e.isComposing) enforceLimit(); else updateComposer(); });
  input.addEventListener('compositionend', enforceLimit);
  input.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition does neither.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  });
  $('send-form').addEventListener('submit', (e) => { e.preventDefault(); send(); });

  return {
    enter,
    exit,
    updateComposer,
    // Logged out: forget the room (the link is stopped by then).
    reset() { room = null; },

    // ---- from the link's hooks ----
    onConnected(again) {
      if (!room) return;
      if (again) addNotice('Reconnected.', 'local');
      subscribe();
    },
    onLost() {
      if (room) addNotice('Connection lost. Reconnecting…', 'local');
    },
    onSubscribed(roomId) {
      if (roomId && room && room.id === roomId) $('screen-chat').dataset.subscribed = roomId;
      else if (!roomId) delete $('screen-chat').dataset.subscribed;
    },
    // The server refused the room (not a member, no such room): don't resubscribe.
    onRefused() {
      if (room) exit();
    },
  };
}
