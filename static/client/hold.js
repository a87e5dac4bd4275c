// Holding a picked time (PROTOCOL.md "Slot holds"): picking a time holds it
// at once; picking another replaces the hold; leaving the page, changing the
// calendar or the length releases it; the hub ends it when it expires.

import { randomKey } from "../hub-client.js";
import { canWrite, hubNow } from "./store.js";
import { refusal, whenText } from "./words.js";

const HOLD_ANSWER_MS = 8000;
const EXPIRY_GRACE_MS = 2500; // the hub releases an expired hold within 2 s

export class Holds {
  constructor(hub, store, sync) {
    this.hub = hub;
    this.store = store;
    this.sync = sync;
    this.expiryTimer = null;
    this.onPageHide = () => this.releaseNow();
    globalThis.addEventListener("pagehide", this.onPageHide);
    sync.onCalendarEvent((event) => this.onEvent(event));
    this.stopWatching = store.subscribe((state) => this.watchExpiry(state));
  }

  stop() {
    this.releaseNow();
    globalThis.removeEventListener("pagehide", this.onPageHide);
    clearTimeout(this.expiryTimer);
    this.stopWatching();
  }

  /** Pick a free time: it becomes the choice, held for this user alone. */
  async pick(slot) {
    const state = this.store.get();
    if (!canWrite(state) || state.busy || state.checking) return;
    const choice = { starts_at: slot.starts_at, ends_at: slot.ends_at, key: randomKey() };
    this.store.set({ choice, holding: state.holdsWork, notice: null });
    if (!state.holdsWork) return;
    let hold;
    try {
      hold = await this.hub.hold(state.calendarId, slot.starts_at, slot.ends_at, { timeout: HOLD_ANSWER_MS });
    } catch (error) {
      this.refused(choice, error);
      return;
    }
    if (this.store.get().choice !== choice) {
      // Picked again meanwhile: that newer hold replaces this one, or, if it fails, this one must go.
      if (this.store.get().hold?.id !== hold.id) this.hub.release(hold.id).catch(() => {});
      return;
    }
    this.store.set({ hold, holding: false });
  }

  refused(choice, error) {
    if (this.store.get().choice !== choice) return;
    if (error.code === "bad_request" && error.details?.field === "type") {
      // A hub without holds: the time is picked, not held; booking still checks it.
      this.store.set({ holdsWork: false, holding: false });
      return;
    }
    const stillHeld = this.store.get().hold; // the previous hold, if any, is still the user's
    if (stillHeld) this.hub.release(stillHeld.id).catch(() => {});
    this.store.set({
      choice: null,
      hold: null,
      holding: false,
      serviceDown: error.code === "unavailable" || this.store.get().serviceDown,
      notice: { kind: "error", text: refusal(error, "held") },
    });
    this.sync.refreshSoon(0);
  }

  /** Let the held time go (another calendar, another length, reschedule called off). */
  release() {
    const { hold } = this.store.get();
    this.store.set({ choice: null, hold: null, holding: false });
    if (hold) this.hub.release(hold.id).catch(() => {});
  }

  /** On leaving the page: send the release at once; the socket is still open. */
  releaseNow() {
    const { hold } = this.store.get();
    if (hold && this.hub.state === "live") this.hub.release(hold.id).catch(() => {});
  }

  /** The hold is over on the hub's side: expired, released elsewhere, or replaced in another tab. */
  onEvent(event) {
    const state = this.store.get();
    if (event.event !== "slot.released" || event.data.id !== state.hold?.id) return;
    if (event.data.reason === "replaced" && (state.holding || state.busy)) return; // our own next pick or booking
    this.ended(event.data.reason);
  }

  ended(reason) {
    const state = this.store.get();
    if (!state.hold || state.busy) return;
    const when = whenText(state, state.hold.starts_at, state.hold.ends_at);
    const why = {
      expired: `Your hold on ${when} ran out, so others may book that time now.`,
      released: `Your hold on ${when} was released.`,
      replaced: `Your hold on ${when} moved to a time you picked in another window.`,
    };
    this.store.set({
      choice: null,
      hold: null,
      notice: { kind: "info", text: `${why[reason] || why.expired} Nothing was booked. Pick a time to hold it again.` },
    });
    this.sync.refreshSoon(0);
  }

  /** If the hub's expiry event is late (or lost with the connection), end the hold on time here. */
  watchExpiry(state) {
    const hold = state.hold;
    if (hold === this.watched) return;
    this.watched = hold;
    clearTimeout(this.expiryTimer);
    if (!hold) return;
    const wait = Date.parse(hold.expires_at) - hubNow(state) + EXPIRY_GRACE_MS;
    this.expiryTimer = setTimeout(() => {
      if (this.store.get().hold?.id === hold.id) this.ended("expired");
    }, Math.max(0, wait));
  }
}
