// Wall-clock time in an IANA time zone, with nothing but Intl.DateTimeFormat.
//
// A "day" here is a civil date {y, m, d} (m is 1-12) with no zone of its own;
// instants are Date objects. wall() reads an instant's wall clock in a zone,
// zonedTime() finds the instant of a wall clock in a zone.

const partFormats = new Map();

function partsFormat(timeZone) {
  let format = partFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    partFormats.set(timeZone, format);
  }
  return format;
}

/** The wall clock of an instant in a zone: {y, m, d, hour, minute, second}. */
export function wall(date, timeZone) {
  const out = {};
  for (const part of partsFormat(timeZone).formatToParts(date)) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  return { y: out.year, m: out.month, d: out.day, hour: out.hour % 24, minute: out.minute, second: out.second };
}

function offsetAt(ms, timeZone) {
  const seconds = Math.floor(ms / 1000) * 1000;
  const w = wall(new Date(seconds), timeZone);
  return Date.UTC(w.y, w.m - 1, w.d, w.hour, w.minute, w.second) - seconds;
}

/** The instant at which the wall clock of `timeZone` shows day + hour:minute. */
export function zonedTime(day, hour, minute, timeZone) {
  const guess = Date.UTC(day.y, day.m - 1, day.d, hour, minute);
  const first = offsetAt(guess, timeZone);
  let ms = guess - first;
  const second = offsetAt(ms, timeZone);
  if (second !== first) ms = guess - second;
  return new Date(ms);
}

export function dayOf(date, timeZone) {
  const w = wall(date, timeZone);
  return { y: w.y, m: w.m, d: w.d };
}

export function today(timeZone) {
  return dayOf(new Date(), timeZone);
}

export function addDays(day, n) {
  const t = new Date(Date.UTC(day.y, day.m - 1, day.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** Monday = 0 … Sunday = 6, as the protocol's working hours count. */
export function weekday(day) {
  return (new Date(Date.UTC(day.y, day.m - 1, day.d)).getUTCDay() + 6) % 7;
}

export function startOfWeek(day) {
  return addDays(day, -weekday(day));
}

export function sameDay(a, b) {
  return a.y === b.y && a.m === b.m && a.d === b.d;
}

export function dayKey(day) {
  return `${day.y}-${String(day.m).padStart(2, "0")}-${String(day.d).padStart(2, "0")}`;
}

export function parseDayKey(key) {
  const [y, m, d] = key.split("-").map(Number);
  return y && m && d ? { y, m, d } : null;
}

/** "09:30" → [9, 30]. */
export function parseHHMM(text) {
  const match = /^(\d{1,2}):(\d{2})/.exec(text || "");
  return match ? [Number(match[1]), Number(match[2])] : null;
}

const timeFormats = new Map();

/** "09:30" in the zone. */
export function formatTime(date, timeZone) {
  let format = timeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    timeFormats.set(timeZone, format);
  }
  return format.format(date);
}

export function hhmm(date, timeZone) {
  const w = wall(date, timeZone);
  return `${String(w.hour).padStart(2, "0")}:${String(w.minute).padStart(2, "0")}`;
}

const dayFormat = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
const longDayFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: "UTC",
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
});

/** "Tue 24 Nov". */
export function formatDay(day) {
  return dayFormat.format(new Date(Date.UTC(day.y, day.m - 1, day.d, 12)));
}

/** "Tuesday 24 November 2026". */
export function formatLongDay(day) {
  return longDayFormat.format(new Date(Date.UTC(day.y, day.m - 1, day.d, 12)));
}

/** A short name of the zone at an instant, e.g. "GMT", "EST", "GMT+9". */
export function zoneAbbreviation(date, timeZone) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" }).formatToParts(date);
    return parts.find((p) => p.type === "timeZoneName")?.value || timeZone;
  } catch {
    return timeZone;
  }
}

/** RFC 3339 in UTC with Z, as the hub wants. */
export function iso(date) {
  return date.toISOString();
}
