// api.js - the one way the pages talk to Tessera: its JSON API (docs/api.md).
//
// Requests and answers are JSON. An error answer is a problem document
// (RFC 9457); api() throws it as a Problem, which names the field it is about
// (the JSON pointer at the start of `detail`, or a page's guess from the
// words) and says it as a plain sentence. The server decides every rule; the
// pages only show what it said.
//
// Sessions: a cookie session (`"cookie": true` at sign-in) is the browser's:
// the server sets tsr_session (HttpOnly) and tsr_csrf (readable), and every
// request other than GET/HEAD carries the csrf value as X-CSRF-Token. A
// bearer token (the fallback while a server has no cookie sessions) is kept
// in this module's memory only: never in localStorage or sessionStorage, so
// it is gone when the page is.

let bearer = null;

/** Use a bearer token (kept in memory only) for the requests that follow. */
export function setBearer(token) {
  bearer = typeof token === 'string' && token !== '' ? token : null;
}

/** Forget any bearer token. */
export function clearBearer() {
  bearer = null;
}

/** Whether a bearer token is held. */
export function hasBearer() {
  return bearer !== null;
}

/** The csrf value of a cookie session, or null without one. */
export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)tsr_csrf=([^;]*)/);
  return m && m[1] !== '' ? decodeURIComponent(m[1]) : null;
}

/** A refused request: status, the problem's short type, the field (a JSON
 * pointer such as "/applicant/email", or null) and a sentence to show. */
export class Problem extends Error {
  constructor(status, type, detail, field) {
    super(detail);
    this.status = status;
    this.type = type;
    this.detail = detail;
    this.field = field;
    this.sentence = toSentence(detail);
  }
}

/** "must have at most 64 characters" -> "Must have at most 64 characters." */
export function toSentence(text) {
  let s = String(text || '').trim();
  if (s === '')
    return 'Something went wrong.';
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : s + '.';
}

// Split "/applicant/date_of_birth: expected a string" into its pointer and
// the rest. Only a pointer of the JSON reader's form counts.
function splitPointer(detail) {
  const m = /^(\/[A-Za-z0-9_/~-]*): (.+)$/.exec(detail);
  return m ? { field: m[1], rest: m[2] } : { field: null, rest: detail };
}

/**
 * Guess the field a detail without a pointer is about, from its words:
 * `rules` is a list of [RegExp, pointer]; the first that matches wins.
 * Returns the pointer or null. Only where the sentence is shown depends on
 * it, never whether the request was right.
 */
export function guessField(detail, rules) {
  for (const [re, field] of rules || [])
    if (re.test(detail))
      return field;
  return null;
}

const PREFIX = 'https://tessera.invalid/problems/';

async function problemOf(res) {
  let doc = null;
  try {
    doc = await res.json();
  } catch (e) {
    doc = null;
  }
  const type = doc && typeof doc.type === 'string' && doc.type.startsWith(PREFIX) ?
    doc.type.slice(PREFIX.length) : 'http';
  let detail = doc && typeof doc.detail === 'string' ? doc.detail : '';
  if (detail === '')
    detail = res.status === 431 ? 'the request was too large' :
      `the server answered ${res.status} ${res.statusText || ''}`.trim();
  const { field, rest } = splitPointer(detail);
  const p = new Problem(res.status, type, field ? rest : detail, field);
  return p;
}

/**
 * api(method, path, body): the JSON answer of one API request, or a thrown
 * Problem. `path` starts with /api/v1; `body` (an object) is sent as JSON.
 * A network failure is a Problem of status 0 and type "network".
 */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store',
    redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (bearer !== null) {
    headers.Authorization = 'Bearer ' + bearer;
  } else if (method !== 'GET' && method !== 'HEAD') {
    const csrf = csrfToken();
    if (csrf !== null)
      headers['X-CSRF-Token'] = csrf;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new Problem(0, 'network', 'the server could not be reached; check the connection ' +
      'and try again', null);
  }
  if (!res.ok)
    throw await problemOf(res);
  try {
    return await res.json();
  } catch (e) {
    throw new Problem(res.status, 'parse', 'the server sent an answer this page cannot read',
      null);
  }
}

/** The path segment for an application number, as typed (trimmed). */
export function appPath(id, rest) {
  return '/api/v1/applications/' + encodeURIComponent(id.trim()) + (rest || '');
}

/**
 * Sign in as the applicant of `id`: a cookie session when the server offers
 * them, else a bearer token held in memory. Resolves to "cookie" or
 * "bearer".
 */
export async function applicantSignIn(id, password) {
  clearBearer();
  try {
    await api('POST', appPath(id, '/session'), { password, cookie: true });
    return 'cookie';
  } catch (p) {
    // A server without cookie sessions refuses the member itself.
    if (!(p instanceof Problem) || p.status !== 400 || p.field !== '/cookie')
      throw p;
  }
  const s = await api('POST', appPath(id, '/session'), { password });
  setBearer(s.token);
  return 'bearer';
}

/** End the session (cookie or bearer); never throws. */
export async function signOut() {
  try {
    if (bearer !== null || csrfToken() !== null)
      await api('DELETE', '/api/v1/sessions/current');
  } catch (e) {
    // Already ended or expired: nothing more to do.
  }
  clearBearer();
}

// Pages take the application number in their query as `id` (the one name
// the server's page routes allow besides `serial`); `application` is read
// too, for links written by hand.

/** "?id=AP-..." for a link to a page about application `id`. */
export function idQuery(id) {
  return '?id=' + encodeURIComponent(id.trim());
}

/** The application number in this page's query, or null. */
export function idFromQuery() {
  const q = new URLSearchParams(location.search);
  const id = q.get('id') || q.get('application');
  return id ? id.trim() : null;
}
