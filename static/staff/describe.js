// How an appointment or a block is put into words, the same in every view:
// its visible lines and its accessible name (start time, title, client, status,
// and "recurring" for an occurrence of a series).

import * as Z from "../zoned.js";
import * as F from "./format.js";

export const STATUS_WORDS = {
  pending: "pending",
  confirmed: "confirmed",
  cancelled: "cancelled",
  completed: "completed",
  no_show: "no-show",
};

const described = new WeakMap(); // item -> {key, words}: an item object never changes, a new version is a new object

/** The word a series' occurrence carries in names (its mark, ↻, is drawn beside its title). */
export const RECURRING = "recurring";

/** {time, title, who, zone, status, shownStatus, series, label, calendar} of an item as the viewer in `tz` sees it. */
export function describe(item, store, tz = store.view.tz) {
  const key = `${tz}|${store.revision}`;
  const hit = described.get(item);
  if (hit?.key === key) return hit.words;
  const words = wordsOf(item, store, tz);
  described.set(item, { key, words });
  return words;
}

function wordsOf(item, store, tz) {
  const s = Date.parse(item.starts_at);
  const e = Date.parse(item.ends_at);
  const calendar = store.calendars.get(item.calendar_id);
  const block = item.kind === "block";
  const time = F.timeRange(s, e, tz);
  const title = block ? `Time off${item.title && item.title !== "Time off" ? `: ${item.title}` : ""}` : item.title || "Busy";
  const who = block ? "" : store.personName(item.client_id);
  const zone = calendar ? ownZone(s, e, tz, calendar.timezone) : "";
  const status = STATUS_WORDS[item.status] || item.status;
  const shownStatus = block ? (item.status === "cancelled" ? "lifted" : "") : status;
  const series = Boolean(item.series_id);
  // The order in which a block shows its lines (title, client, time, own zone,
  // status), then the rest: what a block shows is always the start of its
  // name, whatever its height cuts off (WCAG 2.5.3, "label in name").
  const label = [title, who, time, zone, shownStatus, series ? RECURRING : "", calendar?.name].filter(Boolean).join(", ");
  return { s, e, time, title, who, zone, status, shownStatus, series, block, calendar, label };
}

/** "09:00–09:30 London time" when the calendar's wall clock differs from the viewer's. */
export function ownZone(s, e, viewTz, calendarTz) {
  if (viewTz === calendarTz) return "";
  const mine = Z.wall(s, viewTz);
  const theirs = Z.wall(s, calendarTz);
  if (mine.hour === theirs.hour && mine.minute === theirs.minute && mine.d === theirs.d) return "";
  const sameDay = mine.d === theirs.d;
  const day = sameDay ? "" : `${F.day({ y: theirs.y, m: theirs.m, d: theirs.d })} `;
  return `${day}${F.timeRange(s, e, calendarTz)} ${F.city(calendarTz)} time`;
}

/** "Tue 1 Dec, 10:00–10:30" in a zone. */
export function when(item, tz) {
  const s = Date.parse(item.starts_at);
  const e = Date.parse(item.ends_at);
  return `${F.day(Z.dayOf(s, tz))}, ${F.timeRange(s, e, tz)}`;
}
