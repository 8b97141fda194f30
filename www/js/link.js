/* link.js - the STOMP link to the relay behind /ws (docs/STOMP.md): transport choice,
 * CONNECT with the REST token, reconnecting with backoff and jitter, one room
 * subscription (with the recovery headers), sending.
 *
 * Uses the StompJs and SockJS globals that vendor/stomp.umd.min.js and
 * vendor/sockjs.min.js define (the npm packages @stomp/stompjs and sockjs-client). It
 * does not touch the page: it reports what happens through the hooks given to its
 * constructor, and the caller decides what the page shows. One Link lives as long as
 * the page; start() and stop() begin and end one login's connection. */

const BACKOFF_FIRST_MS = 500;      // the first retry's step
const BACKOFF_MAX_MS = 15000;      // the largest step

/* How long to wait before retry number `retry` (0 for the first after a close): the
 * step doubles from BACKOFF_FIRST_MS up to BACKOFF_MAX_MS, and the wait is half the
 * step plus a random part of the other half ("equal jitter"). So the pages that lost
 * the same relay spread out over the next one instead of arriving together, and a
 * server that stays down is asked less and less often. */
export function backoffDelay(retry, random = Math.random) {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(retry, 20));
  return step / 2 + random() * (step / 2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

// Plain words for the `message` header of an ERROR frame.
export function stompErrorWords(code) {
  return STOMP_WORDS[code] || 'The chat server reported an error.';
}

/* How the page reaches the relay, decided before every (re)connect: SockJS at /ws when
 * the SockJS bundle loaded and the relay answers SockJS's info URL, else the raw
 * WebSocket endpoint /ws/websocket. Resolves 'sockjs' or 'websocket'. */
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

export class Link {
  /* hooks, called for the current connection only (and by stop() itself):
   *   status(state)      'connecting' | 'connected' | 'reconnecting' | 'offline'
   *   transport(name)    'sockjs' | 'websocket', before each attempt
   *   connected(again)   CONNECTED; `again` when an earlier attempt had connected
   *   lost()             a live connection closed; reconnecting follows
   *   failing()          the third attempt in a row closed before CONNECTED (the relay
   *                      may refuse a revoked token without an ERROR frame)
   *   subscribed(roomId) the server confirmed the subscription; null when there is none
   *   error(code, body)  an ERROR frame: its `message` header and body
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.client = null;          // StompJs.Client between start() and stop()
    this.token = null;
    this.connected = false;
    this.everConnected = false;
    this.failedConnects = 0;     // attempts since the last CONNECTED
    this.attempts = 0;           // connection attempts since start() or the last CONNECTED
    this.sub = null;             // {roomId, handle}
    this.receipts = 0;
  }

  // Starts connecting with `token`, ending any earlier connection. Returns false when
  // the StompJs bundle did not load (nothing is started then).
  start(token) {
    if (this.client) this.stop();
    if (!window.StompJs) return false;
    this.token = token;
    this.connected = false;
    this.everConnected = false;
    this.failedConnects = 0;
    this.attempts = 0;
    const client = new window.StompJs.Client({
      // StompJs retries after 1 ms; the real wait (backoffDelay) is in beforeConnect,
      // which StompJs awaits before every attempt.
      reconnectDelay: 1,
      connectionTimeout: 10000,
      heartbeatIncoming: 10000,
      heartbeatOutgoing: 10000,
      debug: () => {},
    });
    const current = () => this.client === client;
    const hooks = this.hooks;

    client.beforeConnect = async (c) => {
      if (!current()) return;
      if (this.attempts++ > 0) {
        await sleep(backoffDelay(this.attempts - 2));
        if (!current()) return;    // stopped meanwhile; StompJs sees it is inactive
      }
      hooks.status(this.everConnected ? 'reconnecting' : 'connecting');
      c.connectHeaders = { passcode: this.token || '' };
      hooks.transport(await chooseTransport(c));
    };
    client.onConnect = () => {
      if (!current()) return;
      const again = this.everConnected;
      this.connected = true;
      this.everConnected = true;
      this.failedConnects = 0;
      this.attempts = 0;
      this.sub = null;
      hooks.status('connected');
      hooks.connected(again);
    };
    client.onStompError = (frame) => {
      if (!current()) return;
      hooks.error(frame.headers && frame.headers.message, frame.body || '');
    };
    client.onWebSocketClose = () => {
      if (!current()) return;
      const wasConnected = this.connected;
      this.connected = false;
      this.sub = null;
      hooks.subscribed(null);
      if (!client.active) return;
      hooks.status(this.everConnected ? 'reconnecting' : 'connecting');
      if (wasConnected) hooks.lost();
      else if (++this.failedConnects >= 3) hooks.failing();
    };
    this.client = client;
    hooks.status('connecting');
    client.activate();
    return true;
  }

  // Ends the connection; resolves once it is closed, or after 2 s at most.
  stop() {
    const client = this.client;
    this.client = null;
    this.token = null;
    this.connected = false;
    this.sub = null;
    this.hooks.subscribed(null);
    this.hooks.status('offline');
    if (!client) return Promise.resolve();
    // Don't wait forever for a dead connection to close.
    return Promise.race([
      client.deactivate().catch(() => {}),
      new Promise((r) => setTimeout(r, 2000)),
    ]);
  }

  get subscribed() { return this.sub !== null; }

  /* Subscribes to a room while connected and not yet subscribed (else does nothing).
   * onMessage gets each MESSAGE body parsed (a Message object); anything else is
   * dropped. `since` ({offset, epoch}, the last stored message the caller saw) asks
   * the relay to replay what came after it (x-since-offset, x-since-epoch). The
   * RECEIPT tells when the subscription is in place: onReceipt(headers) gets its
   * headers (x-epoch, x-offset, x-recovered) before any of its messages, then
   * hooks.subscribed(roomId) is called. */
  subscribe(roomId, onMessage, { since = null, onReceipt = () => {} } = {}) {
    if (!this.client || !this.connected || this.sub) return;
    const receipt = `sub-${roomId}-${++this.receipts}`;
    const headers = { receipt };
    if (since) {
      headers['x-since-offset'] = String(since.offset);
      headers['x-since-epoch'] = since.epoch;
    }
    this.client.watchForReceipt(receipt, (frame) => {
      if (!this.sub || this.sub.roomId !== roomId) return;
      onReceipt(frame.headers || {});
      this.hooks.subscribed(roomId);
    });
    const handle = this.client.subscribe(`/topic/room/${roomId}`, (frame) => {
      let m;
      try { m = JSON.parse(frame.body); } catch (e) { return; }
      if (m && typeof m === 'object') onMessage(m);
    }, headers);
    this.sub = { roomId, handle };
  }

  unsubscribe() {
    const sub = this.sub;
    this.sub = null;
    this.hooks.subscribed(null);
    if (sub && this.connected) {
      try { sub.handle.unsubscribe(); } catch (e) { /* connection already gone */ }
    }
  }

  // Sends a chat message; throws when the connection dropped under it.
  // extra: more fields of the SEND body ({fileId} for a FILE message).
  send(roomId, text, extra = {}) {
    if (!this.client || !this.connected) throw new Error('not connected');
    this.client.publish({
      destination: '/app/chat.sendMessage',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...extra, roomId, message: text }),
    });
  }
}
