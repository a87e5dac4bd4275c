// The client booking page: a month of days with free times, the free times of
// a day, holding and booking one, and the user's own appointments, live.
// Built into <section id="client-view"> from the modules in ./client/.

import { BookingView } from "./client/booking.js";
import { ConnectionView } from "./client/connection.js";
import { Controls } from "./client/controls.js";
import { Holds } from "./client/hold.js";
import { buildLayout, loadStyles } from "./client/layout.js";
import { MonthView } from "./client/month.js";
import { createStore } from "./client/store.js";
import { Sync } from "./client/sync.js";
import { TimesView } from "./client/times.js";
import { UpcomingView } from "./client/upcoming.js";
import { Writes } from "./client/writes.js";
import * as Z from "./client/zones.js";

const CALENDAR_KEY = "hub.client.calendar";
const ZONE_KEY = "hub.client.zone";

export async function startClient({ hub, user }) {
  loadStyles();
  const parts = buildLayout(document.querySelector("#client-view"));
  const remembered = localStorage.getItem(ZONE_KEY);
  const zone = remembered && Z.isZone(remembered) ? remembered : Z.browserZone();
  const store = createStore({
    userId: user.id,
    calendars: [],
    calendarId: null,
    zone,
    duration: 30,
    month: Z.monthOf(Z.dayOf(Date.now(), zone)),
    day: null,
    slots: [],
    slotsKey: null,
    holds: [],
    choice: null,
    hold: null,
    holding: false,
    holdsWork: true,
    mine: new Map(),
    moving: null,
    busy: null,
    checking: null,
    notice: null,
    connection: hub.state,
    serviceDown: false,
    skew: 0,
    showPast: false,
    autoDay: false,
    weeks: 0,
  });
  const sync = new Sync(hub, store);
  const holds = new Holds(hub, store, sync);
  const writes = new Writes(hub, store, sync, holds);
  const actions = clientActions(store, sync, holds, writes, parts);
  const views = [
    new ConnectionView(parts.banner, store),
    new Controls(parts.controls, store, actions),
    new MonthView(parts.month, store, actions),
    new TimesView(parts.times, store, actions),
    new UpcomingView(parts.mine, store, actions),
  ];
  const booking = new BookingView(views[3].after, parts.moving, store, actions);
  await sync.start();
  const { calendars } = store.get();
  const wanted = new URLSearchParams(location.search).get("calendar") || sessionStorage.getItem(CALENDAR_KEY);
  const first = calendars.find((c) => c.id === wanted) || calendars[0];
  if (first) actions.chooseCalendar(first.id);
  return {
    store,
    stop() {
      holds.stop();
      writes.stop();
      sync.stop();
      booking.stop();
      views.length = 0;
    },
  };
}

/** What the views may ask for; each writes the store (or asks the hub through holds and writes). */
function clientActions(store, sync, holds, writes, parts) {
  const thisMonth = () => Z.monthOf(Z.dayOf(Date.now() + store.get().skew, store.get().zone));
  return {
    chooseCalendar(id) {
      if (store.get().moving) return;
      holds.release();
      sessionStorage.setItem(CALENDAR_KEY, id);
      store.set({ calendarId: id, day: null, autoDay: true, month: thisMonth(), slots: [], slotsKey: null, notice: null });
    },
    chooseLength(minutes) {
      holds.release();
      store.set({ duration: minutes, autoDay: true, notice: null });
    },
    chooseZone(zone) {
      if (!Z.isZone(zone)) return;
      localStorage.setItem(ZONE_KEY, zone);
      store.set({ zone });
    },
    showMonth(delta) {
      store.set({ month: Z.addMonths(store.get().month, delta) });
    },
    showMonthOf(day) {
      store.set({ month: Z.monthOf(day) });
    },
    chooseDay(key) {
      store.set({ day: key });
    },
    nextAvailable: () => sync.showNextAvailable(),
    pick(slot) {
      const picked = holds.pick(slot);
      // On a phone the form is below a long list of times: bring the held time into view.
      parts.times.querySelector(".cp-form")?.scrollIntoView({ block: "nearest" });
      return picked;
    },
    book: (title, notes) => writes.book(title, notes),
    move: (appointment) => writes.move(appointment),
    cancel: (appointment) => writes.cancel(appointment),
    startMoving(appointment) {
      holds.release();
      const start = Date.parse(appointment.starts_at);
      const day = Z.dayOf(start, store.get().zone);
      store.set({
        moving: appointment,
        calendarId: appointment.calendar_id,
        duration: Math.round((Date.parse(appointment.ends_at) - start) / Z.MINUTES),
        month: Z.monthOf(day),
        day: Z.dayKey(day),
        notice: null,
      });
      parts.moving.scrollIntoView({ block: "start" });
      parts.month.querySelector("button.cp-day[tabindex='0']")?.focus({ preventScroll: true });
    },
    stopMoving() {
      holds.release();
      store.set({ moving: null, notice: null });
    },
    setWeeks(weeks) {
      store.set({ weeks });
    },
    togglePast() {
      store.set({ showPast: !store.get().showPast });
    },
  };
}
