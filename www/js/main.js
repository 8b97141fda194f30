/* main.js - the browser client's entry point (chat.html loads it as a module): holds
 * the login, builds the link and the two views, and wires them to each other and to
 * the page.
 *
 * State lives with its owner and is handed on explicitly: the login ({token, user})
 * here, the connection in the Link, the room lists in the rooms view, the open room in
 * the chat view. The other modules get what they need as constructor arguments. */
import { ApiError, logInOrSignUp, logOut, currentUser } from './api.js';
import { loadSession, saveSession, clearSession, loadRoom } from './session.js';
import { Link, stompErrorWords } from './link.js';
import { createRoomsView } from './rooms.js';
import { createChatView } from './chat.js';
import { createSearchView } from './search.js';
import {
  $, sentence, showBanner, hideBanner, showScreen, showConn, showTransport, copyFrom,
} from './dom.js';

let login = null;           // {token, user} while logged in
let checkingToken = false;

const token = () => (login ? login.token : null);
const user = () => (login ? login.user : null);

const link = new Link({
  status: setConn,
  transport: showTransport,
  connected: (again) => chat.onConnected(again),
  lost: () => chat.onLost(),
  failing: checkToken,
  subscribed: (roomId) => chat.onSubscribed(roomId),
  error: onStompError,
});

const rooms = createRoomsView({
  token,
  enterRoom: (id) => chat.enter(id),
  failed: apiFailed,
});

const chat = createChatView({
  link, token, user,
  showChat: () => go('chat'),
  showRooms,
  failed: apiFailed,
});

const search = createSearchView({
  token,
  room: () => chat.room(),
  openAt: (id, offset) => chat.enter(id, { at: offset }),
  failed: apiFailed,
});

// ---- screens ----
function go(screen) {
  showScreen(screen);
  rooms.setActive(screen === 'rooms');
  search.setActive(screen !== 'login');
}

function showLogin() {
  $('me').hidden = true;
  setConn('offline');
  go('login');
  $('login-error').textContent = '';
  ($('login-email').value ? $('login-password') : $('login-name')).focus();
}

function showRooms() {
  go('rooms');
  rooms.refresh(false);
}

function setConn(state) {
  showConn(state);
  chat.updateComposer();
}

// ---- logging in and out ----
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
    const data = await logInOrSignUp(name, email, password);
    login = { token: data.token, user: data.user };
    saveSession(login.token, login.user);
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
  $('me-name').textContent = login.user.name;
  $('me-id').textContent = login.user.id;
  $('me').hidden = false;
  if (!link.start(login.token)) {
    showBanner('The chat library did not load (vendor/stomp.umd.min.js). Run "make deps" on the server.');
  }
  showRooms();
}

function forget() {
  clearSession();
  login = null;
  chat.reset();
  rooms.reset();
  search.reset();
}

async function logout() {
  const button = $('logout');
  button.disabled = true;
  const tok = token();
  await link.stop();
  let warning = null;
  try {
    await logOut(tok);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) {
      warning = `Logged out here, but the server could not be told: ${sentence(e.message)}`;
    }
  }
  button.disabled = false;
  forget();
  showLogin();
  if (warning) showBanner(warning);
}

// The server no longer accepts the token (revoked or expired).
function sessionEnded(reason) {
  link.stop();
  forget();
  showLogin();
  showBanner(reason, 'info');
}

// Asks the API whether the token still works; back to login when it does not.
async function checkToken() {
  if (checkingToken || !login) return;
  checkingToken = true;
  try {
    const me = await currentUser(login.token);
    if (me && me.id && login) login.user = me;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && login) {
      sessionEnded('Your session has ended. Please log in again.');
    }
  } finally {
    checkingToken = false;
  }
}

// ---- errors ----

// Shows an API failure in plain words; a 401 on an authenticated call means the token
// is gone (logged out elsewhere or expired): back to the login screen.
function apiFailed(what, e) {
  if (e instanceof ApiError && e.status === 401 && login) {
    sessionEnded('Your session has ended. Please log in again.');
    return;
  }
  const detail = e instanceof ApiError ? e.message : String(e && e.message || e);
  showBanner(`${what}: ${sentence(detail)}`);
}

function onStompError(code, body) {
  if (code === 'unauthorized') {
    sessionEnded('Your session has ended (logged out or expired). Please log in again.');
    return;
  }
  body = body.trim();
  showBanner(`Chat server: ${stompErrorWords(code)}${body ? ' (' + sentence(body).replace(/\.$/, '') + ')' : ''}`);
  if (code === 'forbidden' || code === 'not-found') chat.onRefused();
}

// ---- wiring ----
$('login-form').addEventListener('submit', onLoginSubmit);
$('logout').addEventListener('click', logout);
$('banner-close').addEventListener('click', hideBanner);
for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', () => copyFrom(b));
}

const saved = loadSession();
if (!saved) {
  showLogin();
} else {
  login = { token: saved.token, user: saved.user };
  const roomId = loadRoom();
  loggedIn();
  checkToken().then(() => {
    if (!login) return;
    $('me-name').textContent = login.user.name;
    if (roomId) chat.enter(roomId);
  });
}
