// The one store of the staff application: calendars, people, the
// appointments of the shown period, and the view. Views subscribe with on();
// nothing here renders or talks to the hub.
//
// Changes are announced as small records so a view can redraw only what moved:
//   {type: "view"}                     the period, zone or shown calendars changed
//   {type: "calendars"}                a calendar was added or changed
//   {type: "people"}                   names of clients became known
//   {type: "items", changes: [{before, after, origin}], snapshot?: calendarId}
// `origin` is "live" (someone else's change, to highlight), "mine" (an answer
// to our own write) or "snapshot".
//
//   {type: "holds", changes: [{before, after}]}   live slot holds came or went
//
// Items are appointments and time-off blocks (kind "block"); an occurrence of
// a series carries `series_id`. Slot holds are kept apart in `this.holds`
// (kind "hold"), as hub-client.js follows them per calendar channel: they are
// not appointments, and nothing but the grid's layout mixes them in.

import * as Z from "../zoned.js";
import { periodOf } from "./period.js";

export const ACTIVE = new Set(["pending", "confirmed"]);
export const PALETTE_SIZE = 10;

export class Store {
  constructor(user, view) {
    this.user = user;
    this.calendars = new Map(); // id -> calendar
    this.colors = new Map(); // calendar id -> palette index
    this.people = new Map(); // user id -> user
    this.items = new Map(); // id -> appointment or block, those overlapping the period
    this.holds = new Map(); // id -> live slot hold (kind "hold"), of the followed calendars
    this.own = new Set(); // ids with a write of ours in flight: their echo is not news
    this.loading = false; // snapshots of the shown period are still on their way (live.js)
    this.revision = 0; // grows when names of calendars or people change: words made from them are stale
    this.view = view; // {mode, anchor, tz, selected, showCancelled, firstDay}
    this.period = periodOf(view.mode, view.anchor, view.tz, view.firstDay);
    this._listeners = new Set();
  }

  on(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  emit(change) {
    for (const listener of [...this._listeners]) {
      try {
        listener(change);
      } catch (error) {
        console.error(error);
      }
    }
  }

  // View

  /** Change mode, anchor, zone, shown calendars or the cancelled filter. */
  setView(changes) {
    this.view = { ...this.view, ...changes };
    if (changes.selected) this.view.selected = changes.selected.filter((id) => this.calendars.has(id));
    this.period = periodOf(this.view.mode, this.view.anchor, this.view.tz, this.view.firstDay);
    for (const [id, item] of this.items) if (!this.inPeriod(item) || !this.shown(item.calendar_id)) this.items.delete(id);
    this.emit({ type: "view" });
  }

  shown(calendarId) {
    return this.view.selected.includes(calendarId);
  }

  /** The shown calendars, in the order of the legend. */
  shownCalendars() {
    return [...this.calendars.values()].filter((c) => this.shown(c.id));
  }

  inPeriod(item) {
    return Date.parse(item.starts_at) < this.period.to && Date.parse(item.ends_at) > this.period.from;
  }

  // Calendars and people

  /** All calendars; each keeps its colour for as long as the page lives. */
  setCalendars(list) {
    this.calendars = new Map(list.map((c) => [c.id, c]));
    for (const c of list) this.colorFor(c.id);
    this.revision += 1;
    this.emit({ type: "calendars" });
  }

  putCalendar(calendar) {
    this.colorFor(calendar.id);
    this.calendars.set(calendar.id, calendar);
    this.revision += 1;
    this.emit({ type: "calendars", calendar });
  }

  colorFor(calendarId) {
    if (!this.colors.has(calendarId)) this.colors.set(calendarId, this.colors.size % PALETTE_SIZE);
    return this.colors.get(calendarId);
  }

  addPeople(list) {
    let news = false;
    for (const person of list) {
      const held = this.people.get(person.id);
      if (!held || held.full_name !== person.full_name || held.role !== person.role || held.is_active !== person.is_active) news = true;
      this.people.set(person.id, { ...held, ...person });
    }
    if (news) {
      this.revision += 1;
      this.emit({ type: "people" });
    }
  }

  personName(id) {
    const person = this.people.get(id);
    return person ? person.full_name || person.email : "";
  }

  // Appointments and blocks

  get(id) {
    return this.items.get(id) || null;
  }

  /** The whole truth of one calendar in the period (a snapshot). */
  replaceCalendar(calendarId, list) {
    const changes = [];
    const fresh = new Map(list.filter((a) => this.inPeriod(a)).map((a) => [a.id, a]));
    for (const [id, item] of this.items) {
      if (item.calendar_id === calendarId && !fresh.has(id)) {
        this.items.delete(id);
        changes.push({ before: item, after: null, origin: "snapshot" });
      }
    }
    for (const [id, item] of fresh) {
      const before = this.items.get(id) || null;
      this.items.set(id, item);
      if (!before || before.version !== item.version) changes.push({ before, after: item, origin: "snapshot" });
    }
    this.emit({ type: "items", changes, snapshot: calendarId });
  }

  /**
   * Hold the newest version of an item; returns the change, or null when it is not news.
   * `force` takes an older version too (the hub's current one after version_conflict).
   */
  put(item, origin = "live", force = false) {
    const before = this.items.get(item.id) || null;
    if (!force && before && before.version >= item.version) return null;
    if (origin === "live" && this.own.has(item.id)) origin = "mine";
    if (this.inPeriod(item) && this.shown(item.calendar_id)) this.items.set(item.id, item);
    else this.items.delete(item.id);
    const change = { before, after: item, origin };
    this.emit({ type: "items", changes: [change] });
    return change;
  }

  /** One event of a calendar channel, through its reducer. */
  applyEvent(event) {
    const reduce = REDUCERS[event.event];
    if (reduce) reduce(this, event.data);
  }

  // Slot holds

  /** The live holds of one calendar, as hub-client.js last reported them. */
  setHolds(calendarId, holds) {
    const changes = [];
    const fresh = new Map(holds.map((hold) => [hold.id, hold]));
    for (const [id, held] of this.holds) {
      if (held.calendar_id === calendarId && !fresh.has(id)) {
        this.holds.delete(id);
        changes.push({ before: held, after: null });
      }
    }
    for (const [id, hold] of fresh) {
      const before = this.holds.get(id) || null;
      if (before && before.expires_at === hold.expires_at && before.held_by === hold.held_by) continue;
      const after = { ...hold, kind: "hold", status: "held" };
      this.holds.set(id, after);
      changes.push({ before, after });
    }
    if (changes.length) this.emit({ type: "holds", changes });
  }

  /** Live holds of some calendars that overlap [from, to), as between() gives items. */
  holdsBetween(from, to, calendarIds = this.view.selected) {
    const found = [];
    for (const hold of this.holds.values()) {
      if (!calendarIds.includes(hold.calendar_id)) continue;
      const [s, e] = span(hold);
      if (s < to && e > from) found.push({ item: hold, s, e });
    }
    return found;
  }

  /** Someone else's live hold on a calendar over [from, to), or null: that time is not to be offered. */
  heldAgainst(calendarId, from, to) {
    const found = this.holdsBetween(from, to, [calendarId]).find(({ item }) => item.held_by !== this.user.id);
    return found ? found.item : null;
  }

  /** Items of some calendars that overlap [from, to), sorted by start. */
  between(from, to, calendarIds = this.view.selected) {
    const wanted = new Set(calendarIds);
    const found = [];
    for (const item of this.items.values()) {
      if (!wanted.has(item.calendar_id)) continue;
      if (!this.view.showCancelled && item.status === "cancelled") continue;
      const [s, e] = span(item);
      if (s < to && e > from) found.push({ item, s, e });
    }
    return found.sort((a, b) => a.s - b.s || b.e - a.e);
  }
}

const spans = new WeakMap(); // item -> [start, end] epoch ms, parsed once per version

/** [start, end] of an item in epoch ms. */
export function span(item) {
  let found = spans.get(item);
  if (!found) {
    found = [Date.parse(item.starts_at), Date.parse(item.ends_at)];
    spans.set(item, found);
  }
  return found;
}

const putItem = (store, data) => store.put(data, "live");

/** What each event of a calendar channel does to the store. */
const REDUCERS = {
  "appointment.created": putItem,
  "appointment.updated": putItem,
  "appointment.cancelled": putItem,
  "appointment.status_changed": putItem,
  "calendar.updated": (store, data) => store.putCalendar(data),
};

const openCache = new Map();

/** The working hours of a calendar, as instants [start, end) that meet [from, to). */
export function openIntervals(calendar, from, to) {
  const key = `${calendar.id}|${calendar.timezone}|${JSON.stringify(calendar.working_hours)}|${from}|${to}`;
  let found = openCache.get(key);
  if (found) return found;
  found = [];
  const tz = calendar.timezone;
  let day = Z.addDays(Z.dayOf(from, tz), -1);
  const last = Z.dayOf(to, tz);
  for (let guard = 0; guard < 62 && Z.daysBetween(day, last) >= 0; guard += 1, day = Z.addDays(day, 1)) {
    const weekday = Z.weekday(day);
    for (const range of calendar.working_hours || []) {
      if (range.weekday !== weekday) continue;
      const [sh, sm] = Z.parseHHMM(range.start);
      const [eh, em] = Z.parseHHMM(range.end);
      const a = +Z.zonedTime(day, sh, sm, tz);
      const b = +Z.zonedTime(day, eh, em, tz);
      if (a < to && b > from) found.push([a, b]);
    }
  }
  found.sort((p, q) => p[0] - q[0]);
  if (openCache.size > 500) openCache.clear();
  openCache.set(key, found);
  return found;
}
