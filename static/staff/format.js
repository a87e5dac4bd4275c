// The one date and time format of the dashboard: the browser's locale,
// 24-hour where the locale is. Every label, name and field goes through here.

const cache = new Map();

function format(key, options) {
  let made = cache.get(key);
  if (!made) {
    made = new Intl.DateTimeFormat(undefined, options);
    cache.set(key, made);
  }
  return made;
}

/** 2-digit hours where the locale counts 24 hours ("09:00"), else "9:00 AM". */
const HOUR = ["h23", "h24"].includes(new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions().hourCycle) ? "2-digit" : "numeric";

const noon = (day) => new Date(Date.UTC(day.y, day.m - 1, day.d, 12));
const utc = { timeZone: "UTC" };

/** "10:00" or "10:00 AM": an instant's wall time in a zone. */
export function time(ms, timeZone) {
  return format(`t:${timeZone}`, { timeZone, hour: HOUR, minute: "2-digit" }).format(ms);
}

/** A wall-clock time with no zone (minutes since midnight), e.g. a row of the grid. */
export function clock(minutes) {
  const ms = Date.UTC(2000, 0, 1, 0, 0) + Math.round(minutes) * 60_000;
  return format("clock", { ...utc, hour: HOUR, minute: "2-digit" }).format(ms);
}

/** "10:00–10:30" in a zone. */
export function timeRange(startMs, endMs, timeZone) {
  return `${time(startMs, timeZone)}–${time(endMs, timeZone)}`;
}

function weekdayName(day, style = "short") {
  return format(`wd:${style}`, { ...utc, weekday: style }).format(noon(day));
}

/** "Tue 1 Dec" (en-GB) or "Tue Dec 1" (en-US). */
export function day(day) {
  return `${weekdayName(day)} ${format("dm", { ...utc, day: "numeric", month: "short" }).format(noon(day))}`;
}

/** "Mon 30 Nov 2026". */
export function longDay(day) {
  return `${weekdayName(day)} ${date(day)}`;
}

/** "30 Nov 2026". */
export function date(day) {
  return format("dmy", { ...utc, day: "numeric", month: "short", year: "numeric" }).format(noon(day));
}

/** "November 2026". */
export function month(day) {
  return format("my", { ...utc, month: "long", year: "numeric" }).format(noon(day));
}

/** "Monday" … for weekday 0-6 (Monday = 0). */
export function weekdayLong(index) {
  return format("wdl", { ...utc, weekday: "long" }).format(Date.UTC(2024, 0, 1 + index, 12)); // 1 Jan 2024 was a Monday
}

/** "Mon" … for weekday 0-6 (Monday = 0). */
export function weekdayShort(index) {
  return format("wds", { ...utc, weekday: "short" }).format(Date.UTC(2024, 0, 1 + index, 12));
}

/** Day of month as a number in the locale's digits. */
export function dayNumber(day) {
  return format("d", { ...utc, day: "numeric" }).format(noon(day));
}

/** The first day of the locale's week: 1 = Monday … 7 = Sunday. */
export function firstDayOfWeek() {
  try {
    const locale = new Intl.Locale(navigator.language);
    const info = locale.getWeekInfo?.() || locale.weekInfo;
    if (info?.firstDay) return info.firstDay;
  } catch {
    /* an unusual locale tag: fall back */
  }
  return 1;
}

/** The city of an IANA zone name: "Europe/London" → "London". */
export function city(timeZone) {
  return timeZone.split("/").pop().replaceAll("_", " ");
}
