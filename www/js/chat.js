/* chat.js - the chat screen of one room: entering and leaving it, the subscription
 * (resumed where the room's timeline left off) and the composer with its
 * 1000-code-point counter. The message log itself is the Timeline's (timeline.js).
 *
 * It owns which room is open. The STOMP link, the token, the user and how to go back
 * to the rooms screen come in through createChatView(). Message text and names are
 * put on the page with textContent only. */
import { ApiError, joinRoom, leaveRoom } from './api.js';
import { $, codePoints, showBanner, hideBanner } from './dom.js';
import { saveRoom, forgetRoom } from './session.js';
import { Timeline } from './timeline.js';
import { setUpUploads } from './files.js';
import { Members } from './members.js';

const MAX_MESSAGE = 1000;          // code points, as the server counts them

/* deps:
 *   link               the Link (link.js)
 *   token(), user()    the current login, null when logged out
 *   showChat()         switches to the chat screen
 *   showRooms()        switches to the rooms screen
 *   failed(what, e)    reports a failed API call
 * Returns the view; main.js forwards the link's hooks to its on...() methods. */
export function createChatView({ link, token, user, showChat, showRooms, failed }) {
  let room = null;                 // the open room: {id, name, ...}
  let timeline = null;             // its Timeline
  let members = null;              // its member list (members.js)

  const addNotice = (text, kind) => { if (timeline) timeline.notice(text, kind); };

  // Subscribes once connected and once the timeline knows where to resume: from the
  // last stored message shown, so the relay replays what was missed (docs/STOMP.md).
  function subscribe() {
    if (!room || !timeline || !timeline.ready || link.subscribed) return;
    const id = room.id;
    const t = timeline;
    const ms = members;
    link.subscribe(id, (m) => { if (timeline === t) { t.message(m); ms.message(m); } }, {
      since: t.since(),
      onReceipt: (h) => { if (timeline === t) t.receipt(h); },
    });
  }

  function closeTimeline() {
    if (timeline) timeline.close();
    timeline = null;
    if (members) members.close();
    members = null;
  }

  // ---- entering and leaving ----

  // Joins (harmless when already a member) and opens the chat screen; resolves
  // whether it did. opts.at: open at the stored message with that offset (search).
  async function enter(id, opts = {}) {
    let joined;
    try {
      joined = await joinRoom(token(), id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) showBanner('There is no room with that ID.');
      else failed('Could not join the room', e);
      return false;
    }
    hideBanner();
    link.unsubscribe();
    closeTimeline();
    room = joined;
    saveRoom(room.id);
    $('room-name').textContent = room.name;
    $('room-id').textContent = room.id;
    const t = new Timeline({ roomId: room.id, token, user, at: opts.at, gone: () => { if (timeline === t) exit(); } });
    timeline = t;
    members = new Members({ roomId: room.id, token });
    members.load();
    showChat();
    updateComposer();
    $('message-input').focus();
    t.load().then(() => { if (timeline === t) subscribe(); });
    return true;
  }

  // Back to the rooms screen, still a member.
  function exit() {
    link.unsubscribe();
    closeTimeline();
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
  setUpUploads({
    token,
    roomId: () => (room ? room.id : null),
    send: (roomId, fileId) => link.send(roomId, '', { fileId }),
    connected: () => link.connected,
  });

  return {
    enter,
    exit,
    room: () => room,
    updateComposer,
    // Logged out: forget the room (the link is stopped by then).
    reset() { closeTimeline(); room = null; },

    // ---- from the link's hooks ----
    onConnected(again) {
      if (!room) return;
      if (again) addNotice('Reconnected.', 'local');
      if (again && members) members.load(); // JOIN/LEAVE sent meanwhile were missed
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
