/* api.js - the REST calls under /api (docs/API.md), one function each.
 *
 * Every authenticated call takes the bearer token as its first argument: this module
 * keeps no login of its own. A failure, the network included, rejects with an
 * ApiError whose message is fit to show (the server's own words when it sent an
 * error body). It does not touch the page. */

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;   // HTTP status; 0 when the server was not reached
    this.code = code;       // the error body's code, or 'http-<status>', 'network', ...
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

const enc = encodeURIComponent;

// One call: resolves the parsed JSON answer (null for none), rejects with ApiError.
export async function request(token, method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
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

/* One button logs in and signs up, as in the original design: log in; on 401 try to
 * create the account; a 409 then means the email exists, so the password was wrong.
 * Resolves {user, token}. The two errors made here have the codes 'login' and
 * 'wrong-password'. */
export async function logInOrSignUp(name, email, password) {
  try {
    return await request(null, 'POST', '/sessions', { email, password });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
  }
  if (!name) {
    throw new ApiError(401, 'login',
      'Wrong email or password. To create a new account, also enter your name.');
  }
  try {
    return await request(null, 'POST', '/users', { name, email, password });
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      throw new ApiError(409, 'wrong-password', 'Wrong password for this email.');
    }
    throw e;
  }
}

export const logOut = (token) => request(token, 'DELETE', '/sessions/current');
export const currentUser = (token) => request(token, 'GET', '/users/me');
export const myRooms = (token) => request(token, 'GET', '/users/me/rooms');

// A page of all rooms, newest first; `cursor` is the previous page's `next`.
export const listRooms = (token, limit, cursor) => request(token, 'GET',
  cursor ? `/rooms?limit=${limit}&cursor=${enc(cursor)}` : `/rooms?limit=${limit}`);

export const createRoom = (token, name) => request(token, 'POST', '/rooms', { name });
export const joinRoom = (token, id) => request(token, 'POST', `/rooms/${enc(id)}/members`);
export const leaveRoom = (token, id) => request(token, 'DELETE', `/rooms/${enc(id)}/members/me`);

/* A page of a room's stored messages, ascending by offset: {messages, epoch, offset}
 * (offset: the room's newest). `at` is {before: N} (older than N), {after: N} (newer
 * than N) or {} (the newest); limit 1-100. */
export function roomMessages(token, id, limit, at = {}) {
  let q = `limit=${limit}`;
  if (at.before !== undefined) q += `&before=${at.before}`;
  else if (at.after !== undefined) q += `&after=${at.after}`;
  return request(token, 'GET', `/rooms/${enc(id)}/messages?${q}`);
}

/* Archived messages of the caller's rooms holding every word of q, best first:
 * {results: [{message, snippet, ranges}], next}. `roomId` limits it to one room;
 * `cursor` is the previous page's `next`; limit 1-50. */
export function searchMessages(token, q, { roomId, limit, cursor } = {}) {
  let s = `q=${enc(q)}`;
  if (roomId) s += `&roomId=${enc(roomId)}`;
  if (limit) s += `&limit=${limit}`;
  if (cursor) s += `&cursor=${enc(cursor)}`;
  return request(token, 'GET', `/search?${s}`);
}
