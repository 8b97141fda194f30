/* chat.js - the browser client: log in / sign up, rooms, chat over STOMP.
 *
 * REST calls go to /api (see CONTRACT.md); chat goes over STOMP to the relay behind
 * /ws. Everything that came from a user or the server is put on the page with
 * textContent, never as HTML. */
'use strict';

(() => {
  const MAX_MESSAGE = 1000;          // code points, as the server counts them
  const PAGE_SIZE = 20;              // rooms per page of "All rooms"
  const ROOMS_REFRESH_MS = 15000;    // room lists refresh while they are on screen
  const RECONNECT_DELAY_MS = 2000;
  const LOG_MAX = 500;               // messages kept on screen
  const SESSION_KEY = 'chat.session';
  const ROOM_KEY = 'chat.room';

  const $ = (id) => document.getElementById(id);
  const codePoints = (s) => [...s].length;

  const state = {
    token: null,
    user: null,          // {id, name, email, createdAt}
    room: null,          // room on the chat screen: {id, name, ...}
    client: null,        // StompJs.Client while logged in
    subscription: null,
    connected: false,
    everConnected: false,
    failedConnects: 0,   // connection attempts since the last CONNECTED
    checkingToken: false,
    receipts: 0,
    myRooms: [],
    myRoomIds: new Set(),
    allRooms: [],
    nextCursor: null,
    refreshTimer: null,
  };

  // ---- small DOM helpers (text only) -------------------------------------------
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function showBanner(text, kind = 'error') {
    $('banner-text').textContent = text;
    $('banner').dataset.kind = kind;
    $('banner').hidden = false;
  }
  function hideBanner() { $('banner').hidden = true; }

  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { hour: '2-digit', minute: '2-digit' });
  const dateTimeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { dateStyle: 'medium', timeStyle: 'medium' });
  function timeOf(ts) {
    const d = new Date(typeof ts === 'number' ? ts : Date.now());
    return Number.isNaN(d.getTime()) ? new Date() : d;
  }

  // ---- REST -------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const STATUS_WORDS = {
    400: 'The request was not understood.',
    401: 'You are not logged in.',
    403: 'That is not allowed.',
    404: 'Not found.',
    409: 'That already exists.',
    413: 'That is too large.',
    422: 'Some of the input is not valid.',
    429: 'Too many attempts. Please wait a minute and try again.',
    503: 'The server is temporarily unavailable. Please try again shortly.',
  };

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    let res;
    try {
      res = await fetch('/api' + path, {
        method, headers, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
    }
    let data = null;
    const text = await res.text().catch(() => '');
    if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
    if (!res.ok) {
      const err = data && typeof data === 'object' && data.error;
      const msg = err && typeof err.message === 'string' && err.message
        ? err.message : (STATUS_WORDS[res.status] || `The server answered ${res.status}.`);
      throw new ApiError(res.status, (err && err.code) || `http-${res.status}`, msg);
    }
    return data;
  }

  // Shows an API failure in plain words; a 401 on an authenticated call means the
  // token is gone (logged out elsewhere or expired): back to the login screen.
  function apiFailed(what, e) {
    if (e instanceof ApiError && e.status === 401 && state.token) {
      sessionEnded('Your session has ended. Please log in again.');
      return;
    }
    const detail = e instanceof ApiError ? e.message : String(e && e.message || e);
    showBanner(`${what}: ${sentence(detail)}`);
  }
  function sentence(s) {
    s = String(s).trim();
    if (!s) return 'unknown error.';
    return /[.!?]$/.test(s) ? s : s + '.';
  }
  const enc = encodeURIComponent;

  // ---- session ----------------------------------------------------------------------
  function saveSession() {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: state.token, user: state.user }));
  }
  function loadSession() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (s && typeof s.token === 'string' && s.user && typeof s.user.id === 'string') return s;
    } catch (e) { /* ignore */ }
    return null;
  }
  function clearSession() {
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(ROOM_KEY);
    state.token = null;
    state.user = null;
    state.room = null;
    state.subscription = null;
    state.myRooms = [];
    state.myRoomIds = new Set();
    state.allRooms = [];
    state.nextCursor = null;
  }

  // One button, as the original "로그인": log in; on 401 try to create the account;
  // a 409 then means the email exists, so the password was wrong.
  async function loginOrSignUp(name, email, password) {
    try {
      return await api('POST', '/sessions', { email, password });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
    }
    if (!name) {
      throw new ApiError(401, 'login',
        'Wrong email or password. To create a new account, also enter your name.');
    }
    try {
      return await api('POST', '/users', { name, email, password });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        throw new ApiError(409, 'wrong-password', 'Wrong password for this email.');
      }
      throw e;
    }
  }

  async function onLoginSubmit(ev) {
    ev.preventDefault();
    const name = $('login-name').value.trim();
    const email = $('login-email').value.trim();
    const password = $('login-password').value;
    const err = $('login-error');
    err.textContent = '';
    if (!email || !password) {
      err.textContent = 'Enter your email and password.';
      return;
    }
    const button = $('login-submit');
    button.disabled = true;
    try {
      const data = await loginOrSignUp(name, email, password);
      state.token = data.token;
      state.user = data.user;
      saveSession();
      $('login-password').value = '';
      loggedIn();
    } catch (e) {
      err.textContent = e instanceof ApiError && (e.code === 'login' || e.code === 'wrong-password')
        ? e.message
        : `Could not log in: ${sentence(e.message)}`;
    } finally {
      button.disabled = false;
    }
  }

  function loggedIn() {
    hideBanner();
    $('me-name').textContent = state.user.name;
    $('me-id').textContent = state.user.id;
    $('me').hidden = false;
    startStomp();
    showRooms();
  }

  async function logout() {
    const button = $('logout');
    button.disabled = true;
    await stopStomp();
    let warning = null;
    try {
      await api('DELETE', '/sessions/current');
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) {
        warning = `Logged out here, but the server could not be told: ${sentence(e.message)}`;
      }
    }
    button.disabled = false;
    clearSession();
    showLogin();
    if (warning) showBanner(warning);
  }

  // The server no longer accepts the token (revoked or expired).
  function sessionEnded(reason) {
    stopStomp();
    clearSession();
    showLogin();
    showBanner(reason, 'info');
  }

  // ---- screens --------------------------------------------------------------------------
  function showScreen(name) {
    for (const s of ['login', 'rooms', 'chat']) $('screen-' + s).hidden = s !== name;
    document.body.dataset.screen = name;
    clearInterval(state.refreshTimer);
    state.refreshTimer = null;
    if (name === 'rooms') {
      state.refreshTimer = setInterval(() => {
        if (!document.hidden) refreshRooms(true);
      }, ROOMS_REFRESH_MS);
    }
  }

  function showLogin() {
    $('me').hidden = true;
    setConn('offline');
    showScreen('login');
    $('login-error').textContent = '';
    ($('login-email').value ? $('login-password') : $('login-name')).focus();
  }

  function showRooms() {
    showScreen('rooms');
    refreshRooms(false);
  }

  // ---- rooms ---------------------------------------------------------------------------
  function roomItem(room, mine) {
    const li = el('li', 'room');
    li.dataset.roomId = room.id;
    const info = el('div', 'room-info');
    info.append(el('span', 'room-name', room.name));
    const count = Number(room.memberCount) || 0;
    const meta = el('span', 'room-meta', `${count} ${count === 1 ? 'member' : 'members'} · ID `);
    meta.append(el('code', null, room.id));
    info.append(meta);
    const button = el('button', mine ? 'secondary small' : 'primary small', mine ? 'Open' : 'Join');
    button.type = 'button';
    button.addEventListener('click', () => enterRoom(room.id));
    li.append(info, button);
    return li;
  }

  function renderRooms() {
    const mine = $('my-rooms');
    const myRooms = state.myRooms || [];
    mine.replaceChildren(...myRooms.map((r) => roomItem(r, true)));
    $('my-rooms-empty').hidden = myRooms.length > 0;
    const all = $('all-rooms');
    all.replaceChildren(...state.allRooms.map((r) => roomItem(r, state.myRoomIds.has(r.id))));
    $('all-rooms-empty').hidden = state.allRooms.length > 0;
    $('more-rooms').hidden = !state.nextCursor;
  }

  // Reloads both lists; "All rooms" keeps as many entries as were on screen.
  async function refreshRooms(quiet) {
    if (!state.token) return;
    const limit = Math.min(100, Math.max(PAGE_SIZE, state.allRooms.length));
    try {
      const [mine, all] = await Promise.all([
        api('GET', '/users/me/rooms'),
        api('GET', `/rooms?limit=${limit}`),
      ]);
      state.myRooms = Array.isArray(mine && mine.rooms) ? mine.rooms : [];
      state.myRoomIds = new Set(state.myRooms.map((r) => r.id));
      state.allRooms = Array.isArray(all && all.rooms) ? all.rooms : [];
      state.nextCursor = all && all.next ? all.next : null;
      renderRooms();
    } catch (e) {
      if (!quiet || (e instanceof ApiError && e.status === 401)) apiFailed('Could not load the rooms', e);
    }
  }

  async function moreRooms() {
    if (!state.nextCursor) return;
    const button = $('more-rooms');
    button.disabled = true;
    try {
      const page = await api('GET', `/rooms?limit=${PAGE_SIZE}&cursor=${enc(state.nextCursor)}`);
      const seen = new Set(state.allRooms.map((r) => r.id));
      for (const r of (page && page.rooms) || []) if (!seen.has(r.id)) state.allRooms.push(r);
      state.nextCursor = page && page.next ? page.next : null;
      renderRooms();
    } catch (e) {
      apiFailed('Could not load more rooms', e);
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
      const room = await api('POST', '/rooms', { name });
      hideBanner();
      $('create-name').value = '';
      $('created-name').textContent = room.name;
      $('created-id').textContent = room.id;
      $('created').hidden = false;
      refreshRooms(false);
    } catch (e) {
      apiFailed('Could not create the room', e);
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

  // Joins (harmless when already a member) and opens the chat screen.
  async function enterRoom(id) {
    let room;
    try {
      room = await api('POST', `/rooms/${enc(id)}/members`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) showBanner('There is no room with that ID.');
      else apiFailed('Could not join the room', e);
      return false;
    }
    hideBanner();
    if (state.room && state.room.id !== room.id) unsubscribeRoom();
    state.room = room;
    sessionStorage.setItem(ROOM_KEY, room.id);
    $('room-name').textContent = room.name;
    $('room-id').textContent = room.id;
    $('log').replaceChildren();
    showScreen('chat');
    updateComposer();
    $('message-input').focus();
    subscribeRoom();
    return true;
  }

  function exitRoom() {
    unsubscribeRoom();
    state.room = null;
    sessionStorage.removeItem(ROOM_KEY);
    showRooms();
  }

  async function leaveRoom() {
    const room = state.room;
    if (!room) return;
    const button = $('leave-room');
    button.disabled = true;
    unsubscribeRoom();
    try {
      await api('DELETE', `/rooms/${enc(room.id)}/members/me`);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) apiFailed('Could not leave the room', e);
    } finally {
      button.disabled = false;
    }
    if (state.token) exitRoom();
  }

  // ---- STOMP ----------------------------------------------------------------------------

  /* How the page reaches the relay, decided before every (re)connect: SockJS at /ws
   * when the relay answers SockJS's info URL, else the raw WebSocket /ws/websocket.
   * (SockJS is the contract; the raw endpoint is the fallback until the relay has it.) */
  async function chooseTransport(client) {
    let sockjs = false;
    if (typeof window.SockJS === 'function') {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 3000);
      try {
        const res = await fetch('/ws/info', { cache: 'no-store', signal: abort.signal });
        const info = res.ok ? await res.json() : null;
        sockjs = !!info && typeof info === 'object' && 'websocket' in info;
      } catch (e) { sockjs = false; }
      clearTimeout(timer);
    }
    if (sockjs) {
      client.webSocketFactory = () => new window.SockJS('/ws');
    } else {
      client.webSocketFactory = undefined;
      client.brokerURL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/websocket`;
    }
    return sockjs ? 'sockjs' : 'websocket';
  }

  const CONN_WORDS = {
    offline: 'Offline',
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
  };
  function setConn(s, transport) {
    const c = $('conn');
    c.dataset.state = s;
    c.textContent = CONN_WORDS[s];
    if (transport) c.dataset.transport = transport;
    c.title = s === 'connected' && c.dataset.transport
      ? `Connected to the chat server (${c.dataset.transport === 'sockjs' ? 'SockJS' : 'WebSocket'})`
      : CONN_WORDS[s];
    updateComposer();
  }

  const STOMP_WORDS = {
    unauthorized: 'Your session is no longer valid.',
    forbidden: 'You are not a member of this room (any more).',
    'not-found': 'That room does not exist.',
    invalid: 'The message was not accepted.',
    'too-large': 'The message is too large.',
    'rate-limited': 'You are sending messages too fast. Slow down a little.',
    unavailable: 'The chat service is temporarily unavailable.',
    protocol: 'The connection to the chat server hit a protocol error.',
  };

  function startStomp() {
    if (state.client) stopStomp();
    if (!window.StompJs) {
      showBanner('The chat library did not load (vendor/stomp.umd.min.js). Run "make deps" on the server.');
      return;
    }
    state.connected = false;
    state.everConnected = false;
    state.failedConnects = 0;
    const client = new window.StompJs.Client({
      reconnectDelay: RECONNECT_DELAY_MS,
      connectionTimeout: 10000,
      heartbeatIncoming: 10000,
      heartbeatOutgoing: 10000,
      debug: () => {},
    });
    const current = () => state.client === client;

    client.beforeConnect = async (c) => {
      if (!current()) return;
      setConn(state.everConnected ? 'reconnecting' : 'connecting');
      c.connectHeaders = { passcode: state.token || '' };
      const transport = await chooseTransport(c);
      $('conn').dataset.transport = transport;
    };
    client.onConnect = () => {
      if (!current()) return;
      const again = state.everConnected;
      state.connected = true;
      state.everConnected = true;
      state.failedConnects = 0;
      state.subscription = null;
      setConn('connected');
      if (state.room) {
        if (again) addNotice('Reconnected.', 'local');
        subscribeRoom();
      }
    };
    client.onStompError = (frame) => {
      if (!current()) return;
      const code = frame.headers && frame.headers.message;
      if (code === 'unauthorized') {
        sessionEnded('Your session has ended (logged out or expired). Please log in again.');
        return;
      }
      const plain = STOMP_WORDS[code] || 'The chat server reported an error.';
      const body = (frame.body || '').trim();
      showBanner(`Chat server: ${plain}${body ? ' (' + sentence(body).replace(/\.$/, '') + ')' : ''}`);
      // Subscribing failed: the room is not ours; don't resubscribe after reconnect.
      if ((code === 'forbidden' || code === 'not-found') && state.room) exitRoom();
    };
    client.onWebSocketClose = () => {
      if (!current()) return;
      const wasConnected = state.connected;
      state.connected = false;
      state.subscription = null;
      delete $('screen-chat').dataset.subscribed;
      if (!client.active) return;
      setConn(state.everConnected ? 'reconnecting' : 'connecting');
      if (wasConnected && state.room) addNotice('Connection lost. Reconnecting…', 'local');
      if (!wasConnected) {
        state.failedConnects += 1;
        // The relay may close without an ERROR; a revoked token must not loop forever.
        if (state.failedConnects >= 3) checkToken();
      }
    };
    state.client = client;
    setConn('connecting');
    client.activate();
  }

  async function checkToken() {
    if (state.checkingToken || !state.token) return;
    state.checkingToken = true;
    try {
      const user = await api('GET', '/users/me');
      if (user && user.id) state.user = user;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && state.token) {
        sessionEnded('Your session has ended. Please log in again.');
      }
    } finally {
      state.checkingToken = false;
    }
  }

  function stopStomp() {
    const client = state.client;
    state.client = null;
    state.connected = false;
    state.subscription = null;
    delete $('screen-chat').dataset.subscribed;
    setConn('offline');
    if (!client) return Promise.resolve();
    // Don't wait forever for a dead connection to close.
    return Promise.race([
      client.deactivate().catch(() => {}),
      new Promise((r) => setTimeout(r, 2000)),
    ]);
  }

  function subscribeRoom() {
    const room = state.room;
    const client = state.client;
    if (!room || !client || !state.connected || state.subscription) return;
    // The receipt tells when the subscription is in place (shown as data-subscribed).
    const receipt = `sub-${room.id}-${++state.receipts}`;
    client.watchForReceipt(receipt, () => {
      if (state.room && state.room.id === room.id && state.subscription) {
        $('screen-chat').dataset.subscribed = room.id;
      }
    });
    state.subscription = client.subscribe(`/topic/room/${room.id}`,
      (frame) => onRoomMessage(room.id, frame), { receipt });
  }

  function unsubscribeRoom() {
    const sub = state.subscription;
    state.subscription = null;
    delete $('screen-chat').dataset.subscribed;
    if (sub && state.connected) {
      try { sub.unsubscribe(); } catch (e) { /* connection already gone */ }
    }
  }

  function onRoomMessage(roomId, frame) {
    if (!state.room || state.room.id !== roomId) return;
    let m;
    try { m = JSON.parse(frame.body); } catch (e) { return; }
    if (!m || typeof m !== 'object') return;
    if (m.type === 'CHAT') addChat(m);
    else if (m.type === 'JOIN') addNotice(`${m.sender} joined the room`, 'join', m.ts, m.message);
    else if (m.type === 'LEAVE') addNotice(`${m.sender} left the room`, 'leave', m.ts, m.message);
  }

  // ---- the message log -----------------------------------------------------------------
  function appendToLog(li) {
    const log = $('log');
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
    log.append(li);
    while (log.children.length > LOG_MAX) log.firstElementChild.remove();
    if (atBottom || li.classList.contains('own')) log.scrollTop = log.scrollHeight;
  }

  function timeElement(ts) {
    const d = timeOf(ts);
    const t = el('time', 'time', timeFormat.format(d));
    t.dateTime = d.toISOString();
    t.title = dateTimeFormat.format(d);
    return t;
  }

  function addChat(m) {
    const own = !!state.user && m.senderId === state.user.id;
    const li = el('li', own ? 'msg own' : 'msg');
    if (typeof m.id === 'string') li.dataset.id = m.id;
    const meta = el('div', 'meta');
    meta.append(el('span', 'sender', own ? `${m.sender} (you)` : m.sender), timeElement(m.ts));
    li.append(meta, el('div', 'text', m.message));
    appendToLog(li);
  }

  function addNotice(text, kind, ts, title) {
    const li = el('li', `notice ${kind}`);
    li.append(el('span', 'notice-text', text), timeElement(ts));
    if (title) li.title = String(title);
    appendToLog(li);
  }

  // ---- composer -------------------------------------------------------------------------
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

  function updateComposer() {
    const input = $('message-input');
    const n = codePoints(input.value);
    const counter = $('counter');
    counter.textContent = `${n} / ${MAX_MESSAGE}`;
    counter.classList.toggle('full', n >= MAX_MESSAGE);
    counter.title = n >= MAX_MESSAGE ? `Messages are limited to ${MAX_MESSAGE} characters.` : '';
    $('send').disabled = !state.connected || !state.room || !input.value.trim() || n > MAX_MESSAGE;
  }

  function sendMessage() {
    const input = $('message-input');
    const text = input.value;
    if (!text.trim() || codePoints(text) > MAX_MESSAGE) return;
    if (!state.room || !state.client || !state.connected) {
      showBanner('Not connected to the chat server yet; your message is kept. Try again in a moment.');
      return;
    }
    try {
      state.client.publish({
        destination: '/app/chat.sendMessage',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ roomId: state.room.id, message: text }),
      });
    } catch (e) {
      showBanner('The message could not be sent; the connection dropped. Try again in a moment.');
      return;
    }
    input.value = '';
    updateComposer();
    input.focus();
  }

  // ---- copy buttons -----------------------------------------------------------------------
  async function copyFrom(button) {
    const text = $(button.dataset.copy).textContent;
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (e) {
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

  // ---- wiring ---------------------------------------------------------------------------
  function init() {
    $('login-form').addEventListener('submit', onLoginSubmit);
    $('logout').addEventListener('click', logout);
    $('banner-close').addEventListener('click', hideBanner);
    $('create-form').addEventListener('submit', onCreateSubmit);
    $('join-form').addEventListener('submit', onJoinSubmit);
    $('enter-created').addEventListener('click', () => enterRoom($('created-id').textContent));
    $('refresh-rooms').addEventListener('click', () => refreshRooms(false));
    $('more-rooms').addEventListener('click', moreRooms);
    $('back-to-rooms').addEventListener('click', exitRoom);
    $('leave-room').addEventListener('click', leaveRoom);
    for (const b of document.querySelectorAll('button[data-copy]')) {
      b.addEventListener('click', () => copyFrom(b));
    }
    const input = $('message-input');
    input.addEventListener('input', (e) => { if (!e.isComposing) enforceLimit(); else updateComposer(); });
    input.addEventListener('compositionend', enforceLimit);
    input.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition does neither.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        sendMessage();
      }
    });
    $('send-form').addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !$('screen-rooms').hidden) refreshRooms(true);
    });

    const saved = loadSession();
    if (!saved) { showLogin(); return; }
    state.token = saved.token;
    state.user = saved.user;
    const roomId = sessionStorage.getItem(ROOM_KEY);
    loggedIn();
    checkToken().then(() => {
      if (!state.token) return;
      $('me-name').textContent = state.user.name;
      if (roomId) enterRoom(roomId);
    });
  }

  init();
})();
