// Reading for the client page: calendars, the hub's clock, the chosen
// calendar's channel (changes and live holds), the user's own appointments,
// and the free times of the shown month. Everything lands in the store.

import { monthDays, slotsKeyOf } from "./days.js";
import { chosenCalendar, hubNow } from "./store.js";
import * as Z from "./zones.js";

const MAX_QUERY_DAYS = 31; // availability.get answers at most 31 days at a time
const REFRESH_DELAY_MS = 200; // gathers a burst of events into one refetch
const SERVICE_RETRY_MS = 4000;

export class Sync {
  constructor(hub, store) {
    this.hub = hub;
    this.store = store;
    this.calendarSub = null;
    this.userSub = null;
    this.fetching = 0; // generation of the latest month fetch
    this.refreshTimer = null;
    this.retryTimer = null;
    this.eventHandlers = new Set();
    this.stopWatching = [];
  }

  async start() {
    const { store, hub } = this;
    this.stopWatching.push(hub.watchState((connection) => store.set({ connection })));
    store.set({ connection: hub.state });
    await Promise.all([this.loadCalendars(), this.measureSkew()]);
    this.userSub = hub.subscribe(`user:${store.get().userId}`, {
      onSnapshot: (list) => store.set({ mine: new Map(list.map((a) => [a.id, a])) }),
      onEvent: (event) => this.onMine(event.data),
      onError: (error) => this.failed(error),
    });
    // Follow what the page shows: the calendar's channel, and the month's free times.
    this.stopWatching.push(store.subscribe((state) => this.follow(state)));
    this.follow(store.get());
  }

  stop() {
    for (const stop of this.stopWatching) stop();
    clearTimeout(this.refreshTimer);
    clearTimeout(this.retryTimer);
    this.calendarSub?.unsubscribe();
    this.userSub?.unsubscribe();
  }

  /** Call fn(event) for every event on the chosen calendar's channel. */
  onCalendarEvent(fn) {
    this.eventHandlers.add(fn);
  }

  /** The calendars taking bookings; asked again until the hub answers. */
  async loadCalendars() {
    for (;;) {
      try {
        const { calendars } = await this.hub.request("calendars.list");
        this.store.set({ calendars: calendars.filter((c) => c.is_active), serviceDown: false });
        return;
      } catch (error) {
        if (error.code === "offline") throw error; // signed out meanwhile
        if (error.code === "unavailable") this.store.set({ serviceDown: true });
        await new Promise((resolve) => setTimeout(resolve, SERVICE_RETRY_MS));
      }
    }
  }

  /** A calendar's new hours or rules (calendar.updated) change its days at once. */
  onCalendarUpdated(calendar) {
    this.store.set((state) => ({
      calendars: calendar.is_active
        ? state.calendars.map((c) => (c.id === calendar.id ? { ...c, ...calendar } : c))
        : state.calendars.filter((c) => c.id !== calendar.id),
    }));
  }

  /** The hub's clock: past days, notice and the horizon are its to decide. */
  async measureSkew() {
    const sent = Date.now();
    try {
      const { server_time: serverTime } = await this.hub.request("ping");
      const skew = Date.parse(serverTime) - (sent + Date.now()) / 2;
      if (Number.isFinite(skew)) this.store.set({ skew });
    } catch {
      /* keep this browser's clock */
    }
  }

  onMine(appointment) {
    this.store.set((state) => {
      const held = state.mine.get(appointment.id);
      if (held && held.version > appointment.version) return null;
      return { mine: new Map(state.mine).set(appointment.id, appointment) };
    });
  }

  follow(state) {
    const channel = state.calendarId ? `calendar:${state.calendarId}` : null;
    if ((this.calendarSub?.channel || null) !== channel) {
      const old = this.calendarSub;
      this.calendarSub = channel ? this.followCalendar(channel) : null;
      old?.unsubscribe();
      if (state.holds.length) this.store.set({ holds: [] }); // (re-enters follow, which finds nothing to do)
    }
    const key = slotsKeyOf(state);
    if (channel && key !== this.wanted) {
      this.wanted = key;
      this.fetchMonth();
    }
  }

  followCalendar(channel) {
    const [from, to] = [Date.now() - Z.DAY_MS, Date.now() + Z.DAY_MS].map((ms) => new Date(ms).toISOString());
    // The snapshot's appointments are not needed (free times come from availability.get): a narrow window.
    return this.hub.subscribe(channel, {
      from,
      to,
      onSnapshot: () => this.refreshSoon(0),
      onHolds: (holds) => this.store.set({ holds }),
      onEvent: (event) => {
        if (event.event === "calendar.updated") this.onCalendarUpdated(event.data);
        for (const fn of this.eventHandlers) fn(event);
        this.refreshSoon(REFRESH_DELAY_MS);
      },
      onError: (error) => this.failed(error),
    });
  }

  refreshSoon(delay) {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.fetchMonth(), delay);
  }

  /** The free times of the shown month, in chunks the hub accepts. */
  async fetchMonth() {
    const generation = ++this.fetching;
    const state = this.store.get();
    const calendar = chosenCalendar(state);
    const key = slotsKeyOf(state);
    if (!calendar) return;
    let slots;
    try {
      slots = await this.freeSlots(calendar, state, ...Z.monthRange(state.month, state.zone));
    } catch (error) {
      if (generation === this.fetching) this.failed(error, () => this.fetchMonth());
      return;
    }
    if (generation !== this.fetching || slotsKeyOf(this.store.get()) !== key) return; // a newer question won
    this.store.set({ slots, slotsKey: key, serviceDown: false });
    this.chooseDayIfNone();
  }

  async freeSlots(calendar, state, from, to) {
    const now = hubNow(state);
    const start = Math.max(from, Math.floor(now / Z.MINUTES) * Z.MINUTES);
    const end = Math.min(to, now + (calendar.horizon_days + 1) * Z.DAY_MS);
    const slots = [];
    for (let at = start; at < end; at += MAX_QUERY_DAYS * Z.DAY_MS) {
      const answer = await this.hub.request("availability.get", {
        calendar_id: calendar.id,
        from: new Date(at).toISOString(),
        to: new Date(Math.min(end, at + MAX_QUERY_DAYS * Z.DAY_MS)).toISOString(),
        duration_minutes: state.duration,
      });
      for (const slot of answer.slots) {
        slots.push({ ...slot, start: Date.parse(slot.starts_at), end: Date.parse(slot.ends_at) });
      }
    }
    return slots;
  }

  /** The first day from now with a free time on the chosen calendar, or null. */
  async nextAvailable() {
    const state = this.store.get();
    const calendar = chosenCalendar(state);
    if (!calendar) return null;
    const now = hubNow(state);
    const horizon = now + (calendar.horizon_days + 1) * Z.DAY_MS;
    const others = state.holds.filter((hold) => hold.held_by !== state.userId);
    for (let at = now; at < horizon; at += MAX_QUERY_DAYS * Z.DAY_MS) {
      const slots = await this.freeSlots(calendar, state, at, Math.min(horizon, at + MAX_QUERY_DAYS * Z.DAY_MS));
      const free = slots.find(
        (slot) => !others.some((h) => Date.parse(h.starts_at) < slot.end && Date.parse(h.ends_at) > slot.start),
      );
      if (free) return Z.keyOf(free.start, state.zone);
    }
    return null;
  }

  /** Show the first day with free times, in whichever month it falls. */
  async showNextAvailable() {
    let key;
    try {
      key = await this.nextAvailable();
    } catch (error) {
      this.failed(error);
      return null;
    }
    if (!key) {
      this.store.set({ notice: { kind: "info", text: "This calendar has no free times in its booking window." } });
      return null;
    }
    const day = Z.parseDayKey(key);
    this.store.set({ month: Z.monthOf(day), day: key });
    return key;
  }

  /** On first sight of a calendar: its first free day, here or in a later month. */
  chooseDayIfNone() {
    const state = this.store.get();
    if (state.day || !state.autoDay) return;
    this.store.set({ autoDay: false });
    const first = monthDays(state).find((d) => d.count > 0);
    if (first) this.store.set({ day: first.key });
    else this.showNextAvailable();
  }

  /** An error while reading: a service down pauses writing and retries; the rest is said once. */
  failed(error, retry) {
    if (error?.code === "unavailable") {
      this.store.set({ serviceDown: true });
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => (retry ? retry() : this.fetchMonth()), SERVICE_RETRY_MS);
      return;
    }
    if (error?.code === "connection_lost" || error?.code === "offline") {
      return; // the connection state says it; the next snapshot refetches
    }
    if (error?.code === "timeout") {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => (retry ? retry() : this.fetchMonth()), SERVICE_RETRY_MS);
      return;
    }
    this.store.set({ notice: { kind: "error", text: `The page could not load everything (${error?.code || "error"}).` } });
  }
}
