// What each day of the month calendar says: how many free times it has, or
// why it has none. Pure: state in, answers out.

import { hubNow } from "./store.js";
import * as Z from "./zones.js";

/** The slots the user may pick: the month's free times minus other people's live holds. */
export function visibleSlots(state) {
  const others = state.holds.filter((hold) => hold.held_by !== state.userId);
  const calendar = state.calendars.find((c) => c.id === state.calendarId);
  const notBefore = hubNow(state) + (calendar?.min_notice_minutes || 0) * Z.MINUTES;
  return state.slots.filter(
    (slot) =>
      slot.start >= notBefore &&
      !others.some((hold) => Date.parse(hold.starts_at) < slot.end && Date.parse(hold.ends_at) > slot.start),
  );
}

/** Free slots of one day (a key in the shown zone), in order. */
export function slotsOfDay(state, key) {
  return visibleSlots(state).filter((slot) => Z.keyOf(slot.start, state.zone) === key);
}

/** Does the calendar work at all during [start, end)? */
export function worksDuring(calendar, start, end) {
  const zone = calendar.timezone;
  let day = Z.addDays(Z.dayOf(start, zone), -1);
  const last = Z.addDays(Z.dayOf(end, zone), 1);
  while (Z.dayKey(day) <= Z.dayKey(last)) {
    for (const range of calendar.working_hours) {
      if (range.weekday !== Z.weekday(day)) continue;
      const [sh, sm] = range.start.split(":").map(Number);
      const [eh, em] = range.end.split(":").map(Number);
      const from = Z.instantOf(day, sh, sm, zone);
      const to = eh === 24 ? Z.instantOf(Z.addDays(day, 1), 0, 0, zone) : Z.instantOf(day, eh, em, zone);
      if (from < end && to > start) return true;
    }
    day = Z.addDays(day, 1);
  }
  return false;
}

/**
 * Each day of the shown month: {day, key, count, reason}. `reason` says why a
 * day has no free times: "past", "closed", "beyond the booking horizon",
 * "too soon to book", "no free times left today", "fully booked", or
 * "checking" while its times are on their way.
 */
export function monthDays(state) {
  const calendar = state.calendars.find((c) => c.id === state.calendarId);
  const counts = new Map();
  const loaded = state.slotsKey === slotsKeyOf(state);
  if (loaded) {
    for (const slot of visibleSlots(state)) {
      const key = Z.keyOf(slot.start, state.zone);
      counts.set(key, (counts.get(key) || 0) + 1);
    }
  }
  const now = hubNow(state);
  const todayKey = Z.keyOf(now, state.zone);
  const out = [];
  for (let d = 1; d <= Z.daysInMonth(state.month); d += 1) {
    const day = { ...state.month, d };
    const key = Z.dayKey(day);
    const count = counts.get(key) || 0;
    out.push({ day, key, count, reason: count ? null : reasonFor(state, calendar, day, key, todayKey, now, loaded) });
  }
  return out;
}

function reasonFor(state, calendar, day, key, todayKey, now, loaded) {
  if (key < todayKey) return "past";
  if (!calendar) return "closed";
  const [start, end] = Z.dayRange(day, state.zone);
  if (start >= now + calendar.horizon_days * Z.DAY_MS) return "beyond the booking horizon";
  if (!worksDuring(calendar, start, end)) return "closed";
  const earliest = now + calendar.min_notice_minutes * Z.MINUTES;
  if (earliest >= end || !worksDuring(calendar, Math.max(start, earliest), end)) {
    return key === todayKey && !calendar.min_notice_minutes ? "no free times left today" : "too soon to book";
  }
  if (!loaded) return "checking";
  return "fully booked";
}

/** What the month's slots must have been fetched for to be shown. */
export function slotsKeyOf(state) {
  return [state.calendarId, state.duration, state.zone, Z.dayKey({ ...state.month, d: 1 })].join("|");
}

/** "12 free times", "1 free time". */
export function countText(count) {
  return `${count} free time${count === 1 ? "" : "s"}`;
}
