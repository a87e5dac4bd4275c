// Keeps the store in step with the hub: one subscription per shown calendar,
// over the shown period, resumed by hub-client.js after every reconnect. Its
// live slot holds come from hub-client.js too (snapshot `holds`, slot.held,
// slot.released, and bookings that took a hold over).

export class Live {
  constructor(hub, store, { onError = () => {} } = {}) {
    this.hub = hub;
    this.store = store;
    this.onError = onError;
    this.subs = new Map(); // calendar id -> Subscription
    this.waiting = new Set(); // calendars whose snapshot of the current range has not come yet
    this.range = null;
    this.applied = 0; // events applied, for the tests and the benchmark
    this._off = store.on((change) => {
      if (change.type === "view") this.sync();
    });
  }

  /** Follow exactly the shown calendars over the shown period. */
  sync() {
    const { from, to } = this.store.period;
    const from_ = new Date(from).toISOString();
    const to_ = new Date(to).toISOString();
    const moved = !this.range || this.range[0] !== from_ || this.range[1] !== to_;
    this.range = [from_, to_];
    const wanted = new Set(this.store.view.selected);
    for (const [id, sub] of this.subs) {
      if (!wanted.has(id)) {
        sub.unsubscribe();
        this.subs.delete(id);
        this.store.setHolds(id, []);
      } else if (moved) {
        this.waiting.add(id);
        sub.setRange(from_, to_).catch(() => {});
      }
    }
    for (const id of wanted) if (!this.subs.has(id)) this.follow(id);
    for (const id of this.waiting) if (!wanted.has(id)) this.waiting.delete(id);
    this.store.loading = this.waiting.size > 0;
  }

  follow(calendarId) {
    this.waiting.add(calendarId);
    const sub = this.hub.subscribe(`calendar:${calendarId}`, {
      from: this.range[0],
      to: this.range[1],
      onSnapshot: (list) => this.snapshot(calendarId, list),
      onEvent: (event) => this.apply(event),
      onHolds: (holds) => this.store.setHolds(calendarId, holds),
      onError: (error) => this.onError(error),
    });
    this.subs.set(calendarId, sub);
    return sub;
  }

  /** A calendar's whole truth; `store.loading` says whether more of the range are still to come. */
  snapshot(calendarId, list) {
    this.waiting.delete(calendarId);
    this.store.loading = this.waiting.size > 0;
    this.store.replaceCalendar(calendarId, list);
  }

  apply(event) {
    const started = performance.now();
    this.store.applyEvent(event);
    this.applied += 1;
    document.body.dataset.events = String(this.applied);
    window.__dashboard?.onApplied?.(event, performance.now() - started);
  }

  /** Every shown calendar's first snapshot is in. */
  ready() {
    return Promise.all([...this.subs.values()].map((sub) => sub.ready));
  }

  /** Show the truth again after a refused write. */
  resync(calendarId) {
    this.subs.get(calendarId)?.resync().catch(() => {});
  }

  stop() {
    this._off();
    for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
  }
}
