// Wall-clock time in an IANA time zone, on Temporal.
//
// A "day" here is a civil date {y, m, d} (m is 1-12) with no zone of its own;
// instants are Date objects (or epoch milliseconds). wall() reads an
// instant's wall clock in a zone, zonedTime() finds the instant of a wall
// clock in a zone.
//
// Temporal does the zone arithmetic: native where the browser has it
// (Chromium 144+, Firefox 139+), else the vendored temporal-polyfill, loaded
// only then. "Now" always comes from Date.now(), so a test can set the clock.

if (!globalThis.Temporal) await import("./vendor/temporal-polyfill/global.js");

const { Instant, PlainDate, PlainDateTime } = globalThis.Temporal;

function zoned(ms, timeZone) {
  return Instant.fromEpochMilliseconds(Number(ms)).toZonedDateTimeISO(timeZone);
}

/** The wall clock of an instant in a zone: {y, m, d, hour, minute, second}. */
export function wall(date, timeZone) {
  const z = zoned(+date, timeZone);
  return { y: z.year, m: z.month, d: z.day, hour: z.hour, minute: z.minute, second: z.second };
}

/** Minutes since the wall-clock midnight of the instant's own day, in the zone. */
export function wallMinutes(ms, timeZone) {
  const z = zoned(ms, timeZone);
  return z.hour * 60 + z.minute + z.second / 60;
}

/**
 * The instant at which the wall clock of `timeZone` shows day + hour:minute.
 *
 * A wall time that does not exist (a spring-forward gap) moves forward by the
 * gap; one that occurs twice takes the first occurrence (Temporal's
 * "compatible", as RFC 5545 says). hour may be 24 or more: the next day.
 */
export function zonedTime(day, hour, minute, timeZone) {
  const extra = Math.floor((hour * 60 + minute) / 1440);
  const rest = hour * 60 + minute - extra * 1440;
  const date = PlainDate.from({ year: day.y, month: day.m, day: day.d }).add({ days: extra });
  const local = PlainDateTime.from({
    year: date.year,
    month: date.month,
    day: date.day,
    hour: Math.floor(rest / 60),
    minute: rest % 60,
  });
  return new Date(local.toZonedDateTime(timeZone, { disambiguation: "compatible" }).epochMilliseconds);
}

export function dayOf(date, timeZone) {
  const z = zoned(+date, timeZone);
  return { y: z.year, m: z.month, d: z.day };
}

export function today(timeZone) {
  return dayOf(Date.now(), timeZone);
}

export function addDays(day, n) {
  const t = new Date(Date.UTC(day.y, day.m - 1, day.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** The same day of the month n months on (clamped to the month's length). */
export function addMonths(day, n) {
  const date = PlainDate.from({ year: day.y, month: day.m, day: day.d }).add({ months: n });
  return { y: date.year, m: date.month, d: date.day };
}

/** Whole days from a to b (negative when b is earlier). */
export function daysBetween(a, b) {
  return Math.round((Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000);
}

/** Monday = 0 … Sunday = 6, as the protocol's working hours count. */
export function weekday(day) {
  return (new Date(Date.UTC(day.y, day.m - 1, day.d)).getUTCDay() + 6) % 7;
}

/** The first day of the week holding `day`; firstDay is 1 (Monday) … 7 (Sunday). */
export function startOfWeek(day, firstDay = 1) {
  return addDays(day, -((weekday(day) - (firstDay - 1) + 7) % 7));
}

export function sameDay(a, b) {
  return a.y === b.y && a.m === b.m && a.d === b.d;
}

export function dayKey(day) {
  return `${day.y}-${String(day.m).padStart(2, "0")}-${String(day.d).padStart(2, "0")}`;
}

export function parseDayKey(key) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key || "");
  if (!match) return null;
  const day = { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
  return sameDay(addDays(day, 0), day) ? day : null;
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

/** "Tue 24 Nov" (the client page's format). */
export function formatDay(day) {
  return dayFormat.format(new Date(Date.UTC(day.y, day.m - 1, day.d, 12)));
}

/** "Tuesday 24 November 2026" (the client page's format). */
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
  return new Date(+date).toISOString();
}
