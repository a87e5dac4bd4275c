// Sign-in over the REST surface; tokens live in sessionStorage (this tab only).

import { HubError } from "./hub-client.js";

const KEY = "hub.tokens";

export class Auth {
  constructor(base = new URL(".", location.href)) {
    this.base = base;
    this.tokens = load();
    this._refreshing = null;
  }

  get signedIn() {
    return Boolean(this.tokens?.access_token);
  }

  get accessToken() {
    return this.tokens?.access_token || null;
  }

  async login(email, password) {
    const tokens = await this.call("POST", "api/v1/auth/login/json", { email, password }, false);
    this._save(tokens);
  }

  async register(fullName, email, password) {
    await this.call("POST", "api/v1/auth/register", { email, password, full_name: fullName }, false);
    await this.login(email, password);
  }

  /** A new token pair; one refresh at a time (refresh tokens are single-use). */
  refresh() {
    if (!this._refreshing) {
      const refreshToken = this.tokens?.refresh_token;
      this._refreshing = (async () => {
        if (!refreshToken) throw new HubError("unauthorized", "Not signed in.");
        try {
          const tokens = await this.call("POST", "api/v1/auth/refresh", { refresh_token: refreshToken }, false);
          this._save(tokens);
          return tokens.access_token;
        } catch (error) {
          if (error.code === "unauthorized") this.forget();
          throw error;
        }
      })().finally(() => {
        this._refreshing = null;
      });
    }
    return this._refreshing;
  }

  async logout() {
    const tokens = this.tokens;
    this.forget();
    if (!tokens) return;
    try {
      await fetch(new URL("api/v1/auth/logout", this.base), {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${tokens.access_token}` },
        body: JSON.stringify({ refresh_token: tokens.refresh_token }),
      });
    } catch {
      /* signed out locally anyway */
    }
  }

  forget() {
    this.tokens = null;
    sessionStorage.removeItem(KEY);
  }

  /** One JSON call; errors become HubError with the hub's code. */
  async call(method, path, body, withAuth = true) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (withAuth && this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    let response;
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new HubError("unavailable", "The hub cannot be reached right now.", { cause: String(error) });
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const err = json?.error || {};
      const error = new HubError(err.code || `http_${response.status}`, err.message || response.statusText, err.details);
      error.status = response.status;
      throw error;
    }
    return json;
  }

  _save(tokens) {
    this.tokens = tokens;
    sessionStorage.setItem(KEY, JSON.stringify(tokens));
  }
}

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}
