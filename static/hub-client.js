/**
 * hub-client.js — a small, dependency-free client of the hub's wire protocol
 * (PROTOCOL.md, version 1) for browsers and for Node (20 with a WebSocket
 * class passed in, e.g. the `ws` package's; 22 and later have a global one).
 * An ES module; no build step.
 *
 *   import { HubClient, HubError } from "./hub-client.js";
 *
 *   const hub = new HubClient({
 *     url: "wss://hub.example/ws",        // default: "ws" next to the page (…/ws); required outside a browser
 *     WebSocket: WebSocketClass,          // default: globalThis.WebSocket (Node 20: pass `ws`'s WebSocket)
 *     token: () => accessJwt,             // the current access token (string or Promise)
 *     refreshToken: () => newAccessJwt,   // get a fresh access token (e.g. POST /api/v1/auth/refresh);
 *                                         // resolve with it, reject when the sign-in is over
 *     onState: (state) => {},             // "connecting" | "live" | "reconnecting" | "offline"
 *     onSession: (hello) => {},           // after every successful hello (first and reconnects)
 *     onUnauthorized: (error) => {},      // the session cannot be restored: sign in again
 *   });
 *
 *   const hello = await hub.connect();    // resolves with the first `hello` answer's data;
 *                                         // keeps retrying while the hub is unreachable
 *   const data = await hub.request("calendars.list");
 *                                         // resolves with `data` of the `ok` answer, rejects with a
 *                                         // HubError {code, message, details}; requests made while
 *                                         // reconnecting wait until the socket is live again
 *
 *   const sub = hub.subscribe("calendar:<id>", {
 *     from: "2026-11-23T00:00:00Z",       // optional window of the snapshot (appointments.list)
 *     to: "2026-11-30T00:00:00Z",
 *     onSnapshot(appointments, seq, answer) {}, // the whole truth: replace what you hold
 *                                         // (answer: the whole appointments.list answer, holds too)
 *     onEvent(event) {},                  // then every event after it: {channel, seq, event, data, at}
 *     onError(error) {},                  // the channel could not be (re)subscribed
 *   });
 *   await sub.ready;                      // first snapshot delivered and subscribed
 *   await sub.setRange(from, to);         // a new snapshot for another window, still no gap
 *   await sub.resync();                   // take a fresh snapshot now (e.g. after slot_taken)
 *   sub.unsubscribe();
 *
 *   // Slot holds (PROTOCOL.md "Slot holds"): a calendar subscription also keeps
 *   // the channel's live holds, from the snapshot's `holds` and the
 *   // slot.held / slot.released events and appointment.created or .updated with `hold_id`.
 *   const cal = hub.subscribe("calendar:<id>", { onHolds(holds) {} }); // [hold], after every change
 *   cal.holds;                            // Map hold id -> hold, as the hub projected it to you
 *   const hold = await hub.hold(calendarId, startsAt, endsAt); // {id, calendar_id, starts_at, ends_at, expires_at, held_by}
 *   await hub.release(hold.id);           // rejects with not_found when it had already ended
 *   // book it: hub.request("appointment.create", {..., hold_id: hold.id})
 *
 *   const stop = hub.watchState((state) => {}); // more listeners of onState's states; stop() removes
 *
 *   hub.close();                          // stop for good; state becomes "offline"
 *
 * Guarantees:
 * - One `hello` per socket, first; requests are answered by `id` as promises.
 * - Each subscription remembers the last `seq` it delivered. After any
 *   disconnect the client reconnects with exponential backoff and full jitter
 *   (0.5 s doubling to 10 s; at once when the browser comes back online), says
 *   `hello` again and re-subscribes with `since` = that seq, so the hub replays
 *   exactly what was missed.
 * - On `resync_required` (or a seq gap, which the hub never sends) the
 *   subscription takes a fresh snapshot with `appointments.list` and
 *   continues from the snapshot's `seq`.
 * - Events reach `onEvent` in `seq` order and exactly once: anything with a
 *   seq not above the last delivered one, or covered by a snapshot, is dropped.
 * - The access token is refreshed a minute before it expires (from
 *   `access_expires_at`) through `refreshToken()` and handed to the live
 *   session with `auth.refresh`; a 4001 close also triggers one refresh and a
 *   reconnect before `onUnauthorized` is called.
 * - An application-level `ping` every 25 s detects a dead connection that
 *   the browser has not noticed yet.
 * - Writes in flight when the socket drops reject with code `connection_lost`
 *   (they may or may not have been applied: use `idempotency_key` to retry
 *   `appointment.create` safely).
 */

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
const PING_EVERY_MS = 25_000;
const PING_TIMEOUT_MS = 10_000;
const REFRESH_MARGIN_MS = 60_000;
const MAX_RATE_LIMIT_RETRIES = 3;

/** An error answer of the hub, or a local failure with a code of our own. */
export class HubError extends Error {
  constructor(code, message, details) {
    super(message || code);
    this.name = "HubError";
    this.code = code;
    this.details = details;
  }
}

function defaultUrl() {
  if (!globalThis.location?.href) {
    throw new TypeError("HubClient needs options.url (e.g. \"ws://127.0.0.1:8000/ws\") outside a browser.");
  }
  const url = new URL("ws", globalThis.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** A fresh random key, also where crypto.randomUUID is missing (plain http on a LAN). */
export function randomKey() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class HubClient {
  constructor(options = {}) {
    this.url = options.url || defaultUrl();
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    if (typeof this._WebSocket !== "function") {
      throw new TypeError("No WebSocket here: pass options.WebSocket (on Node 20, the ws package's WebSocket class).");
    }
    this._stateWatchers = new Set();
    this._token = options.token || (() => null);
    this._refreshToken = options.refreshToken || null;
    this._onState = options.onState || (() => {});
    this._onSession = options.onSession || (() => {});
    this._onUnauthorized = options.onUnauthorized || (() => {});
    this.state = "offline";
    this.user = null;
    this.session = null;
    this._ws = null;
    this._ready = false; // hello answered on the current socket
    this._nextId = 1;
    this._pending = new Map(); // id -> job
    this._queue = []; // jobs waiting for a live socket
    this._subs = new Map(); // channel -> Subscription
    this._attempt = 0;
    this._authFailures = 0;
    this._skew = 0; // server clock minus this machine's, from the last hello
    this._closed = false;
    this._connectWaiters = [];
    this._timers = { retry: null, refresh: null, ping: null, pingTimeout: null };
    this._onOnline = () => {
      if (!this._closed && !this._ws) {
        this._attempt = 0;
        this._open();
      }
    };
    this._onOffline = () => {
      if (!this._closed && !this._ready) this._setState("offline");
    };
    globalThis.addEventListener?.("online", this._onOnline);
    globalThis.addEventListener?.("offline", this._onOffline);
  }

  /** Open the connection; resolves with the first hello's data. */
  connect() {
    if (this.session) return Promise.resolve(this.session);
    const promise = new Promise((resolve, reject) => this._connectWaiters.push({ resolve, reject }));
    if (!this._ws && !this._timers.retry) {
      this._closed = false;
      this._open();
    }
    return promise;
  }

  /** Send one request; resolves with the answer's data. */
  request(type, data, options = {}) {
    return new Promise((resolve, reject) => {
      if (this._closed) {
        reject(new HubError("offline", "The connection is closed."));
        return;
      }
      const job = { type, data, resolve, reject, retries: 0, done: false, id: null };
      job.timer = setTimeout(() => {
        this._finish(job);
        reject(new HubError("timeout", `No answer to ${type} in time.`));
      }, options.timeout || REQUEST_TIMEOUT_MS);
      if (this._ready) this._send(job);
      else this._queue.push(job);
    });
  }

  /** Follow a channel: snapshot, then its events in order, exactly once. */
  subscribe(channel, options = {}) {
    const existing = this._subs.get(channel);
    if (existing) existing.unsubscribe();
    const sub = new Subscription(this, channel, options);
    this._subs.set(channel, sub);
    if (this._ready) sub._start();
    return sub;
  }

  /**
   * Hold a slot for yourself while you finish booking (PROTOCOL.md "Slot holds").
   * Holding the same times again extends the hold; holding other times on the
   * same calendar replaces it. Resolves with the hold.
   */
  async hold(calendarId, startsAt, endsAt, options) {
    const data = await this.request("slot.hold", { calendar_id: calendarId, starts_at: startsAt, ends_at: endsAt }, options);
    return data.hold;
  }

  /** End your hold now; rejects with not_found when it had already ended. */
  release(holdId, options) {
    return this.request("slot.release", { hold_id: holdId }, options);
  }

  /** Call fn(state) on every connection state change, beside onState; returns a function that stops it. */
  watchState(fn) {
    this._stateWatchers.add(fn);
    return () => this._stateWatchers.delete(fn);
  }

  /** Close for good. */
  close() {
    this._closed = true;
    for (const name of Object.keys(this._timers)) this._clearTimer(name);
    const ws = this._ws;
    this._detach();
    if (ws) {
      try {
        ws.close(1000);
      } catch {
        /* already closing */
      }
    }
    this._failAll(new HubError("offline", "The connection is closed."));
    for (const job of this._queue.splice(0)) this._reject(job, new HubError("offline", "Closed."));
    globalThis.removeEventListener?.("online", this._onOnline);
    globalThis.removeEventListener?.("offline", this._onOffline);
    this._setState("offline");
  }

  // Connection

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    for (const fn of [this._onState, ...this._stateWatchers]) {
      try {
        fn(state);
      } catch (error) {
        console.error(error);
      }
    }
  }

  _open() {
    this._clearTimer("retry");
    if (this._closed) return;
    this._setState(this.session ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new this._WebSocket(this.url);
    } catch (error) {
      console.warn("hub: cannot open the socket", error);
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    ws.onopen = () => {
      if (ws === this._ws) this._hello(ws);
    };
    ws.onmessage = (message) => {
      if (ws === this._ws) this._onFrame(message.data);
    };
    ws.onclose = (event) => {
      if (ws === this._ws) this._onClose(event.code, event.reason);
    };
    ws.onerror = () => {}; // a close event follows
  }

  async _hello(ws) {
    let token;
    try {
      token = await this._token();
    } catch {
      token = null;
    }
    if (ws !== this._ws) return;
    let data;
    try {
      data = await this._sendNow(ws, "hello", token ? { token } : {});
    } catch (error) {
      // An unauthorized hello is followed by a 4001 close, handled there;
      // anything else (unavailable, timeout, …): drop this socket and retry.
      if (error.code !== "unauthorized" && error.code !== "connection_lost") {
        console.warn("hub: hello failed", error.code, error.message);
        this._abandon(ws, `hello failed: ${error.code}`);
      }
      return;
    }
    if (ws !== this._ws) return;
    this._ready = true;
    this._attempt = 0;
    this._authFailures = 0;
    this.user = data.user;
    this.session = data;
    // The hub's clock decides when a token expires; this machine's may be off.
    const skew = Date.parse(data.server_time) - Date.now();
    this._skew = Number.isFinite(skew) ? skew : 0;
    this._armRefresh(data.access_expires_at);
    this._armPing();
    for (const job of this._queue.splice(0)) this._send(job);
    const starts = [...this._subs.values()].map((sub) => sub._start());
    await Promise.race([Promise.allSettled(starts), delay(REQUEST_TIMEOUT_MS)]);
    if (ws !== this._ws) return;
    this._setState("live");
    try {
      this._onSession(data);
    } catch (error) {
      console.error(error);
    }
    for (const waiter of this._connectWaiters.splice(0)) waiter.resolve(data);
  }

  _onClose(code, reason) {
    this._detach();
    this._failAll(
      new HubError(
        "connection_lost",
        "The connection dropped before the hub answered; the change may or may not have been applied.",
      ),
    );
    if (this._closed) {
      this._setState("offline");
      return;
    }
    if (code === 4001) {
      this._recoverAuth(reason);
      return;
    }
    this._scheduleReconnect(code === 4029 ? 5_000 : 0);
  }

  async _recoverAuth(reason) {
    this._authFailures += 1;
    if (!this._refreshToken || this._authFailures > 2) {
      this._giveUp(reason);
      return;
    }
    this._setState("reconnecting");
    try {
      await this._refreshToken();
    } catch (error) {
      if (error?.code === "unauthorized" || error?.status === 401) {
        this._giveUp(reason);
      } else {
        this._scheduleReconnect(); // the hub is unreachable: try again later
      }
      return;
    }
    this._open();
  }

  _giveUp(reason) {
    const error = new HubError("unauthorized", reason || "The session has ended; sign in again.");
    this.close();
    for (const waiter of this._connectWaiters.splice(0)) waiter.reject(error);
    try {
      this._onUnauthorized(error);
    } catch (err) {
      console.error(err);
    }
  }

  _scheduleReconnect(minimum = 0) {
    if (this._closed) return;
    const offline = globalThis.navigator && globalThis.navigator.onLine === false;
    this._setState(offline ? "offline" : "reconnecting");
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this._attempt);
    this._attempt += 1;
    const wait = Math.max(minimum, ceiling / 2 + Math.random() * (ceiling / 2));
    this._clearTimer("retry");
    this._timers.retry = setTimeout(() => {
      this._timers.retry = null;
      this._open();
    }, wait);
  }

  /** Forget the current socket; its late events are ignored. */
  _detach() {
    const ws = this._ws;
    this._ws = null;
    this._ready = false;
    this._clearTimer("refresh");
    this._clearTimer("ping");
    this._clearTimer("pingTimeout");
    for (const sub of this._subs.values()) sub._onDisconnect();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    }
  }

  /** Give up on a socket (e.g. no answer to ping) without waiting for the close handshake. */
  _abandon(ws, reason = "no answer to ping") {
    if (ws !== this._ws) return;
    try {
      ws.close(4000, reason.slice(0, 100));
    } catch {
      /* ignore */
    }
    this._onClose(4000, reason);
  }

  _armPing() {
    this._clearTimer("ping");
    const ws = this._ws;
    this._timers.ping = setTimeout(async () => {
      if (ws !== this._ws) return;
      this._timers.pingTimeout = setTimeout(() => this._abandon(ws), PING_TIMEOUT_MS);
      try {
        await this._sendNow(ws, "ping", undefined);
      } catch {
        return; // dropped: the close handler runs
      }
      this._clearTimer("pingTimeout");
      if (ws === this._ws) this._armPing();
    }, PING_EVERY_MS);
  }

  _armRefresh(expiresAt) {
    this._clearTimer("refresh");
    if (!this._refreshToken || !expiresAt) return;
    const remaining = Date.parse(expiresAt) - (Date.now() + (this._skew || 0));
    const wait = Math.max(1_000, remaining > 2 * REFRESH_MARGIN_MS ? remaining - REFRESH_MARGIN_MS : remaining * 0.75);
    const ws = this._ws;
    this._timers.refresh = setTimeout(() => this._refreshNow(ws), wait);
  }

  async _refreshNow(ws) {
    if (ws !== this._ws) return;
    let token;
    try {
      token = await this._refreshToken();
    } catch (error) {
      if (error?.code === "unauthorized" || error?.status === 401) {
        this._giveUp("The sign-in has expired; sign in again.");
      } else if (ws === this._ws) {
        this._timers.refresh = setTimeout(() => this._refreshNow(ws), 10_000);
      }
      return;
    }
    if (ws !== this._ws) return; // the next hello uses the new token
    try {
      const data = await this.request("auth.refresh", { token });
      this._armRefresh(data.access_expires_at);
    } catch (error) {
      console.warn("hub: auth.refresh failed", error);
    }
  }

  _clearTimer(name) {
    if (this._timers[name]) {
      clearTimeout(this._timers[name]);
      this._timers[name] = null;
    }
  }

  // Requests

  _send(job) {
    if (job.done) return;
    job.id = `c${this._nextId++}`;
    this._pending.set(job.id, job);
    const frame = { id: job.id, type: job.type };
    if (job.data !== undefined) frame.data = job.data;
    try {
      this._ws.send(JSON.stringify(frame));
    } catch {
      // The close handler fails it.
    }
  }

  /** Send on a given socket now, even before hello (used for hello and ping). */
  _sendNow(ws, type, data) {
    return new Promise((resolve, reject) => {
      const job = { type, data, resolve, reject, retries: MAX_RATE_LIMIT_RETRIES, done: false };
      job.timer = setTimeout(() => {
        this._finish(job);
        reject(new HubError("timeout", `No answer to ${type} in time.`));
      }, REQUEST_TIMEOUT_MS);
      job.id = `c${this._nextId++}`;
      this._pending.set(job.id, job);
      const frame = { id: job.id, type };
      if (data !== undefined) frame.data = data;
      try {
        ws.send(JSON.stringify(frame));
      } catch (error) {
        this._reject(job, new HubError("connection_lost", String(error)));
      }
    });
  }

  _finish(job) {
    job.done = true;
    clearTimeout(job.timer);
    if (job.id != null) this._pending.delete(job.id);
    const index = this._queue.indexOf(job);
    if (index >= 0) this._queue.splice(index, 1);
  }

  _reject(job, error) {
    if (job.done) return;
    this._finish(job);
    job.reject(error);
  }

  _failAll(error) {
    for (const job of [...this._pending.values()]) this._reject(job, error);
  }

  _onFrame(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!message || typeof message !== "object") return;
    if (message.type === "event") {
      this._subs.get(message.channel)?._onEvent(message);
      return;
    }
    const job = message.id != null ? this._pending.get(message.id) : undefined;
    if (!job) {
      if (message.type === "error") console.warn("hub:", message.error?.code, message.error?.message);
      return;
    }
    if (message.type === "ok") {
      this._finish(job);
      job.resolve(message.data || {});
      return;
    }
    const err = message.error || {};
    if (err.code === "rate_limited" && job.retries < MAX_RATE_LIMIT_RETRIES) {
      job.retries += 1;
      this._pending.delete(job.id);
      job.id = null;
      setTimeout(() => (this._ready ? this._send(job) : this._queue.push(job)), err.details?.retry_after_ms || 500);
      return;
    }
    this._reject(job, new HubError(err.code || "internal", err.message, err.details));
  }
}

/** One followed channel; made by HubClient.subscribe. */
class Subscription {
  constructor(hub, channel, options) {
    this.hub = hub;
    this.channel = channel;
    this.from = options.from;
    this.to = options.to;
    this.onSnapshot = options.onSnapshot || (() => {});
    this.onEvent = options.onEvent || (() => {});
    this.onError = options.onError || ((error) => console.warn("hub: subscription", channel, error));
    this.onHolds = options.onHolds || (() => {});
    this.holds = new Map(); // live holds of a calendar channel, by id (PROTOCOL.md "Slot holds")
    this.lastSeq = null; // the last seq delivered (by a snapshot or an event)
    this.active = true;
    this.subscribed = false; // on the current socket
    this._buffer = null; // events held while a snapshot is in flight
    this._needSnapshot = true;
    this._asked = 0; // snapshots asked for (resync, setRange)
    this._socket = 0; // bumped on every disconnect: older work is void
    this._chain = Promise.resolve(); // one (re)start at a time, in order
    this.ready = new Promise((resolve) => (this._resolveReady = resolve));
  }

  /** Take a snapshot for another window; later events continue it. */
  setRange(from, to) {
    this.from = from;
    this.to = to;
    return this.resync();
  }

  /** A fresh snapshot now (or at the next connection). */
  resync() {
    this._needSnapshot = true;
    this._asked += 1; // a snapshot already in flight no longer answers this
    return this._start();
  }

  unsubscribe() {
    if (!this.active) return;
    this.active = false;
    if (this.hub._subs.get(this.channel) === this) this.hub._subs.delete(this.channel);
    if (this.subscribed && this.hub._ready) {
      this.hub.request("unsubscribe", { channel: this.channel }).catch(() => {});
    }
    this.subscribed = false;
  }

  _onDisconnect() {
    this.subscribed = false;
    this._buffer = null;
    this._socket += 1;
  }

  /** Queue a (re)start on the current socket; resolves when it is done. */
  _start() {
    const socket = this._socket;
    this._chain = this._chain.then(() => this._startOn(socket)).catch((error) => {
      if (socket !== this._socket || !this.active) return;
      if (error.code === "connection_lost" || error.code === "offline") return; // redone on reconnect
      this.onError(error);
    });
    return this._chain;
  }

  async _startOn(socket) {
    if (socket !== this._socket || !this.active || !this.hub._ready) return;
    if (this.subscribed) {
      if (this._needSnapshot) await this._snapshot(socket);
      return;
    }
    if (this._needSnapshot || this.lastSeq == null) {
      await this._snapshot(socket);
      if (socket !== this._socket) return;
    }
    try {
      await this._subscribe();
    } catch (error) {
      if (error.code !== "resync_required" || socket !== this._socket) throw error;
      await this._snapshot(socket);
      if (socket !== this._socket) return;
      await this._subscribe();
    }
    if (socket === this._socket) this._resolveReady();
  }

  async _subscribe() {
    const data = { channel: this.channel };
    if (this.lastSeq != null) data.since = this.lastSeq;
    await this.hub.request("subscribe", data);
    if (this.active) this.subscribed = true;
    else this.hub.request("unsubscribe", { channel: this.channel }).catch(() => {});
  }

  /** appointments.list, then the events that raced it (those after its seq). */
  async _snapshot(socket) {
    const data = { channel: this.channel };
    if (this.from) data.from = this.from;
    if (this.to) data.to = this.to;
    if (!this._buffer) this._buffer = [];
    const buffer = this._buffer;
    const asked = this._asked;
    let answer;
    try {
      answer = await this.hub.request("appointments.list", data);
    } finally {
      if (this._buffer === buffer) this._buffer = null;
    }
    if (socket !== this._socket || !this.active) return;
    if (asked === this._asked) this._needSnapshot = false; // else a newer window is still to come
    this.lastSeq = answer.seq; // the snapshot is the truth, even if the log went back (restore)
    try {
      this.onSnapshot(answer.appointments, answer.seq, answer);
    } catch (error) {
      console.error(error);
    }
    this._replaceHolds(answer.holds || []);
    for (const event of buffer) this._onEvent(event);
  }

  _onEvent(event) {
    if (!this.active) return;
    if (this._buffer) {
      this._buffer.push(event);
      return;
    }
    if (this.lastSeq != null && event.seq <= this.lastSeq) return; // already seen
    if (this.lastSeq != null && event.seq > this.lastSeq + 1) {
      // A gap (the hub never sends one): hold what comes and take a snapshot.
      this._buffer = [event];
      this.resync();
      return;
    }
    this.lastSeq = event.seq;
    const holdsChanged = this._trackHold(event);
    try {
      this.onEvent(event);
    } catch (error) {
      console.error(error);
    }
    if (holdsChanged) this._emitHolds();
  }

  /** Keep `holds` in step with one event; true when it changed them. */
  _trackHold(event) {
    const data = event.data || {};
    if (event.event === "slot.held" && data.id) {
      this.holds.set(data.id, data);
      return true;
    }
    if (event.event === "slot.released") return this.holds.delete(data.id);
    // A booking (or a move) that took a hold over ends it; its event stands in for slot.released.
    if (event.event?.startsWith("appointment.") && data.hold_id) return this.holds.delete(data.hold_id);
    return false;
  }

  _replaceHolds(holds) {
    const before = this.holds;
    this.holds = new Map(holds.map((hold) => [hold.id, hold]));
    if (before.size || this.holds.size) this._emitHolds();
  }

  _emitHolds() {
    try {
      this.onHolds([...this.holds.values()]);
    } catch (error) {
      console.error(error);
    }
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
