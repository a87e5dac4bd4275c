// The date, start and end fields of a dialog ↔ instants, in the viewer's zone.

import * as Z from "../zoned.js";
import { dateField, readDay, readTime, setDay, setTime, timeField } from "./fields.js";

const MAX_MS = 12 * 3600_000;

/** Make {date, start, end} inputs speak the dashboard's format. */
export function timeFields(fields) {
  dateField(fields.date);
  timeField(fields.start);
  timeField(fields.end);
  return fields;
}

/** The fields → {start, end} epoch ms, or null when unusable. An end before the start is the next day. */
export function readTimes(fields, tz, maxMs = MAX_MS) {
  const day = readDay(fields.date);
  const a = readTime(fields.start);
  const b = readTime(fields.end);
  if (!day || a === null || b === null) return null;
  const start = +Z.zonedTime(day, 0, a, tz);
  let end = +Z.zonedTime(day, 0, b, tz);
  if (end <= start) end = +Z.zonedTime(Z.addDays(day, 1), 0, b, tz); // ends after midnight
  if (end - start > maxMs) return null;
  return { start, end };
}

/** Fill date, start and end fields from instants. */
export function writeTimes(fields, start, end, tz) {
  setDay(fields.date, Z.dayOf(start, tz));
  setTime(fields.start, Math.round(Z.wallMinutes(start, tz)));
  setTime(fields.end, Math.round(Z.wallMinutes(end, tz)));
}
