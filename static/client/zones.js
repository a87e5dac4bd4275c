// Dates and times for the client page: civil days, wall clocks in IANA zones,
// and the words a client reads ("Tue 1 Dec", "December 2026", "10:30").
//
// Instants are numbers (ms since the epoch); a "day" is a civil date
// {y, m, d} (m is 1-12) with no zone of its own, keyed "2026-12-01".
// Only Intl is used, so it works in every current browser. Local times that
// do not exist or occur twice follow the hub's rule (PROTOCOL.md, "Recurring
// appointments"): a time in a spring-forward gap moves forward by the gap,
// a time that occurs twice takes its first occurrence.

const MINUTE = 60_000;
const DAY = 86_400_000;

const wallFormats = new Map();

function wallFormat(zone) {
  let format = wallFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    wallFormats.set(zone, format);
  }
  return format;
}

/** The wall clock of an instant in a zone: {y, m, d, hour, minute, second}. */
export function wallOf(ms, zone) {
  const out = {};
  for (const part of wallFormat(zone).formatToParts(ms)) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  return { y: out.year, m: out.month, d: out.day, hour: out.hour % 24, minute: out.minute, second: out.second };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(ms, zone) {
  const whole = Math.floor(ms / 1000) * 1000;
  const w = wallOf(whole, zone);
  return Date.UTC(w.y, w.m - 1, w.d, w.hour, w.minute, w.second) - whole;
}

/** The instant at which `zone`'s clock shows `day` at hour:minute (gap: forward; twice: first). */
export function instantOf(day, hour, minute, zone) {
  const asUtc = Date.UTC(day.y, day.m - 1, day.d, hour, minute);
  // The offsets a day either side cover any transition near this wall time.
  const before = offsetAt(asUtc - DAY, zone);
  const after = offsetAt(asUtc + DAY, zone);
  const fits = [before, after]
    .map((offset) => asUtc - offset)
    .filter((ms) => {
      const w = wallOf(ms, zone);
      return w.y === day.y && w.m === day.m && w.d === day.d && w.hour === hour && w.minute === minute;
    });
  if (fits.length) return Math.min(...fits);
  return asUtc - before; // in a gap: the offset before the change moves it forward by the gap
}

export function dayOf(ms, zone) {
  const w = wallOf(ms, zone);
  return { y: w.y, m: w.m, d: w.d };
}

export function dayKey(day) {
  return `${day.y}-${String(day.m).padStart(2, "0")}-${String(day.d).padStart(2, "0")}`;
}

export function parseDayKey(key) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key || "");
  return match ? { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) } : null;
}

export function keyOf(ms, zone) {
  return dayKey(dayOf(ms, zone));
}

export function addDays(day, n) {
  const t = new Date(Date.UTC(day.y, day.m - 1, day.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** Monday = 0 … Sunday = 6, as the hub's working hours count. */
export function weekday(day) {
  return (new Date(Date.UTC(day.y, day.m - 1, day.d)).getUTCDay() + 6) % 7;
}

export function daysInMonth(month) {
  return new Date(Date.UTC(month.y, month.m, 0)).getUTCDate();
}

export function addMonths(month, n) {
  const index = month.y * 12 + (month.m - 1) + n;
  return { y: Math.floor(index / 12), m: (index % 12) + 1 };
}

export function monthOf(day) {
  return { y: day.y, m: day.m };
}

export function sameMonth(a, b) {
  return a.y === b.y && a.m === b.m;
}

/** [start, end) of a civil day in a zone, as instants. */
export function dayRange(day, zone) {
  return [instantOf(day, 0, 0, zone), instantOf(addDays(day, 1), 0, 0, zone)];
}

/** [start, end) of a month in a zone, as instants. */
export function monthRange(month, zone) {
  const first = { y: month.y, m: month.m, d: 1 };
  const next = addMonths(month, 1);
  return [instantOf(first, 0, 0, zone), instantOf({ y: next.y, m: next.m, d: 1 }, 0, 0, zone)];
}

const noonUtc = (day) => Date.UTC(day.y, day.m - 1, day.d, 12);
const shortDay = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
const longDay = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "long", day: "numeric", month: "long" });
const monthYear = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", month: "long", year: "numeric" });
const weekdayShort = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short" });
const weekdayLong = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "long" });

/** "Tue 1 Dec". */
export function dayName(day) {
  return shortDay.format(noonUtc(day)).replace(",", "");
}

/** "Tuesday 1 December". */
export function longDayName(day) {
  return longDay.format(noonUtc(day)).replace(",", "");
}

/** "December 2026". */
export function monthTitle(month) {
  return monthYear.format(Date.UTC(month.y, month.m - 1, 15));
}

/** Weekday names Monday first: [["Mon", "Monday"], …]. */
export function weekdayNames() {
  const monday = { y: 2024, m: 1, d: 1 };
  return Array.from({ length: 7 }, (_, i) => {
    const day = noonUtc(addDays(monday, i));
    return [weekdayShort.format(day), weekdayLong.format(day)];
  });
}

/** "10:30" on the zone's clock. */
export function timeText(ms, zone) {
  const w = wallOf(ms, zone);
  return `${String(w.hour).padStart(2, "0")}:${String(w.minute).padStart(2, "0")}`;
}

/** A short name of the zone at an instant: "CET", "EST", "GMT+9". */
export function zoneAbbr(ms, zone) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" }).formatToParts(ms);
    return parts.find((p) => p.type === "timeZoneName")?.value || zone;
  } catch {
    return zone;
  }
}

/** "Berlin" for Europe/Berlin, "New York" for America/New_York. */
export function zoneCity(zone) {
  if (zone === "UTC" || zone === "Etc/UTC") return "UTC";
  return zone.split("/").pop().replaceAll("_", " ");
}

/** The browser's own zone. */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** Every zone this browser knows, sorted, with `first` at the top. */
export function zoneChoices(first) {
  let all = [];
  try {
    all = Intl.supportedValuesOf("timeZone");
  } catch {
    all = [];
  }
  const rest = [...new Set([...all, "UTC"])].filter((zone) => !first.includes(zone)).sort();
  return [...new Set(first), ...rest];
}

export function isZone(zone) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const MINUTES = MINUTE;
export const DAY_MS = DAY;
