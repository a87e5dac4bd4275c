// The period a view shows: its days, the instants that bound it in the
// viewer's zone, and the names a screen reader and the heading give it.

import * as Z from "../zoned.js";
import * as F from "./format.js";

export const VIEWS = ["day", "week", "month", "agenda"];
export const AGENDA_DAYS = 7;

/** {mode, days, from, to, name, heading} for a view mode around an anchor day. */
export function periodOf(mode, anchor, tz, firstDay = 1) {
  let days;
  if (mode === "day") days = [anchor];
  else if (mode === "week") days = span(Z.startOfWeek(anchor, firstDay), 7);
  else if (mode === "agenda") days = span(anchor, AGENDA_DAYS);
  else {
    const first = { y: anchor.y, m: anchor.m, d: 1 };
    const start = Z.startOfWeek(first, firstDay);
    const last = Z.addDays(Z.addMonths(first, 1), -1);
    days = span(start, Math.ceil((Z.daysBetween(start, last) + 1) / 7) * 7);
  }
  const from = +Z.zonedTime(days[0], 0, 0, tz);
  const to = +Z.zonedTime(Z.addDays(days[days.length - 1], 1), 0, 0, tz);
  return { mode, anchor, days, from, to, ...names(mode, anchor, days) };
}

function span(first, count) {
  return Array.from({ length: count }, (_, i) => Z.addDays(first, i));
}

function names(mode, anchor, days) {
  const last = days[days.length - 1];
  if (mode === "day") return { name: `Day, ${F.longDay(anchor)}`, heading: F.longDay(anchor) };
  if (mode === "month") return { name: F.month(anchor), heading: F.month(anchor) };
  const range = `${F.day(days[0])} – ${F.longDay(last)}`;
  if (mode === "agenda") return { name: "Agenda", heading: `Agenda, ${range}` };
  return { name: `Week of ${F.date(days[0])}`, heading: range };
}

/** The anchor one period before (-1) or after (+1). */
export function step(mode, anchor, direction) {
  if (mode === "month") return Z.addMonths({ y: anchor.y, m: anchor.m, d: 1 }, direction);
  const size = { day: 1, week: 7, agenda: AGENDA_DAYS }[mode];
  return Z.addDays(anchor, direction * size);
}
