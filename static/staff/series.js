// Recurring series in words (PROTOCOL.md "Recurring appointments"): why an
// occurrence cannot be booked or moved (`conflicts`, as a preview or a refusal
// carries them), and what a change to a series did.

import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import * as F from "./format.js";

/** Why one occurrence cannot be booked, by the code the hub gives it. */
const REASONS = {
  slot_taken: "already booked or being booked",
  outside_availability: "outside working hours",
  bad_request: "not allowed (in the past or too long)",
};

export function reason(code) {
  return REASONS[code] || code.replaceAll("_", " ");
}

/** "Tue 8 Dec 2026, 10:00–10:30" of an occurrence in a zone. */
export function occurrenceWhen(occurrence, tz) {
  const s = Date.parse(occurrence.starts_at);
  return `${F.longDay(Z.dayOf(s, tz))}, ${F.timeRange(s, Date.parse(occurrence.ends_at), tz)}`;
}

/** Conflicts by start instant, to mark them in a list of occurrences. */
export function conflictsByStart(conflicts) {
  return new Map((conflicts || []).map((c) => [Date.parse(c.starts_at), c]));
}

/** "2 of them cannot be …: Wed 16 Dec 2026, 11:00–11:30 (already booked), …" */
export function conflictSentence(conflicts, tz, verb = "booked", ending = " Nothing was changed.", shown = 3) {
  const named = conflicts.slice(0, shown).map((c) => `${occurrenceWhen(c, tz)} (${reason(c.code)})`);
  const more = conflicts.length > shown ? `, and ${conflicts.length - shown} more` : "";
  const count = conflicts.length === 1 ? "1 of them cannot be" : `${conflicts.length} of them cannot be`;
  return `${count} ${verb}: ${named.join("; ")}${more}.${ending}`;
}

/** A refusal in words: the occurrences at fault when the hub names them, else explain(). */
export function explainSeries(error, tz, verb) {
  const conflicts = error?.details?.conflicts;
  if (Array.isArray(conflicts) && conflicts.length) return conflictSentence(conflicts, tz, verb);
  return explain(error);
}

/** "3 appointments of the series" or "1 appointment of the series", for an answer with `appointments`. */
export function howMany(answer) {
  const n = answer.appointments?.length || 1;
  return `${n} appointment${n === 1 ? "" : "s"} of the series`;
}

/** "appointment 3 of 10, Tue 1 Dec to Tue 2 Feb" for an occurrence among its series' members. */
export function placeInSeries(item, members, tz) {
  const sorted = [...members].sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
  const index = sorted.findIndex((a) => a.id === item.id);
  if (index < 0 || !sorted.length) return "";
  const first = Z.dayOf(Date.parse(sorted[0].starts_at), tz);
  const last = Z.dayOf(Date.parse(sorted[sorted.length - 1].starts_at), tz);
  const cancelled = sorted.filter((a) => a.status === "cancelled").length;
  const note = cancelled ? ` (${cancelled} cancelled)` : "";
  return `appointment ${index + 1} of ${sorted.length}${note}, ${F.day(first)} to ${F.longDay(last)}`;
}
