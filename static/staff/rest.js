// The hub's REST surface for what the socket does not carry (feeds, webhooks),
// with the page's sign-in: an access token that expired since the socket last
// refreshed it is refreshed once and the call tried again.

export class Rest {
  constructor(auth) {
    this.auth = auth;
  }

  /** One JSON call: resolves with the answer's body (null for 204), rejects with a HubError. */
  async call(method, path, body) {
    try {
      return await this.auth.call(method, path, body);
    } catch (error) {
      if (error.status !== 401) throw error;
      await this.auth.refresh();
      return this.auth.call(method, path, body);
    }
  }

  get(path) {
    return this.call("GET", path);
  }

  post(path, body = {}) {
    return this.call("POST", path, body);
  }

  delete(path) {
    return this.call("DELETE", path);
  }
}

/** Put text on the clipboard; false where the browser refuses (plain http, no permission). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
