// The "Repeat" choices of the new-appointment dialog as an RFC 5545 RRULE
// (PROTOCOL.md "Recurring appointments"): weekly on chosen days every N
// weeks, or monthly on a day every N months; ending after a number of
// appointments or on a date. Pure: no DOM, no hub.
//
// The dialog's days are the viewer's; the hub expands a rule in the
// calendar's zone. Where the first start falls on another date there (late
// evening in London is the next morning in Tokyo), every day of the rule
// moves by the same amount, so each occurrence stays at the viewer's day.

import * as Z from "../zoned.js";
import * as F from "./format.js";

export const MAX_OCCURRENCES = 52; // the hub's default HUB_MAX_OCCURRENCES
const CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/**
 * The rule text of `choices`: {freq: "WEEKLY" | "MONTHLY", interval, days
 * (weekdays, Monday = 0), monthDay, count, until (a day, or null)}. `shift`
 * is how many days the calendar's date is ahead of the viewer's at the start.
 */
export function buildRule(choices, shift = 0) {
  const parts = [`FREQ=${choices.freq}`];
  if (choices.interval > 1) parts.push(`INTERVAL=${choices.interval}`);
  if (choices.freq === "WEEKLY") {
    const days = [...new Set(choices.days.map((d) => (((d + shift) % 7) + 7) % 7))].sort();
    parts.push(`BYDAY=${days.map((d) => CODES[d]).join(",")}`);
  } else {
    parts.push(`BYMONTHDAY=${monthDay(choices.monthDay + shift)}`);
  }
  if (choices.until) parts.push(`UNTIL=${Z.dayKey(Z.addDays(choices.until, shift)).replaceAll("-", "")}`);
  else parts.push(`COUNT=${choices.count}`);
  return parts.join(";");
}

/** A day of the month moved past either end: day 0 is the last day (-1), day 32 the first. */
function monthDay(day) {
  if (day < 1) return -1;
  if (day > 31) return 1;
  return day;
}

/** Days the calendar's date is ahead of the viewer's at an instant: -1, 0 or 1. */
export function dayShift(ms, viewerTz, calendarTz) {
  return Z.daysBetween(Z.dayOf(ms, viewerTz), Z.dayOf(ms, calendarTz));
}

/**
 * What is wrong with the choices, in a sentence, or "" when they make a rule.
 * `first` is the day of the first appointment.
 */
export function problem(choices, first) {
  if (!(choices.interval >= 1 && choices.interval <= 99)) return "Repeat every: give a whole number from 1 to 99.";
  if (choices.freq === "WEEKLY" && !choices.days.length) return "Pick at least one day of the week.";
  if (choices.freq === "MONTHLY" && !(choices.monthDay >= 1 && choices.monthDay <= 31)) return "Day of the month: give a whole number from 1 to 31.";
  if (choices.until === undefined) return "Last date: type a date such as 31 Mar.";
  if (choices.until && Z.daysBetween(first, choices.until) < 0) return "The last date is before the first appointment.";
  if (!choices.until && !(choices.count >= 2 && choices.count <= MAX_OCCURRENCES)) {
    return `Number of appointments: give a whole number from 2 to ${MAX_OCCURRENCES}.`;
  }
  return "";
}

/** "weekly on Tue and Thu", "every 2 weeks on Mon", "monthly on day 15". */
export function ruleWords(choices) {
  const n = choices.interval;
  if (choices.freq === "WEEKLY") {
    const days = [...choices.days].sort().map((d) => F.weekdayShort(d));
    const list = days.length > 1 ? `${days.slice(0, -1).join(", ")} and ${days[days.length - 1]}` : days[0];
    return `${n > 1 ? `every ${n} weeks` : "weekly"} on ${list}`;
  }
  return `${n > 1 ? `every ${n} months` : "monthly"} on day ${choices.monthDay}`;
}
