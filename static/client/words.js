// The sentences the client page says. Plain, calm, and honest about what
// happened: an error answer from the hub means nothing was changed
// (PROTOCOL.md: "an operation that fails leaves no trace").

import { chosenCalendar } from "./store.js";
import * as Z from "./zones.js";

export const STATUS_WORDS = {
  pending: "Waiting for confirmation",
  confirmed: "Confirmed",
  cancelled: "Cancelled",
  completed: "Done",
  no_show: "Missed",
};

/** "Tue 1 Dec at 10:00" in the shown zone. */
export function whenText(state, startsAt) {
  const start = Date.parse(startsAt);
  return `${Z.dayName(Z.dayOf(start, state.zone))} at ${Z.timeText(start, state.zone)}`;
}

/** "10:00–10:30", and the calendar's own clock beside it where its zone differs. */
export function spanText(zone, calendarZone, startsAt, endsAt) {
  const [start, end] = [Date.parse(startsAt), Date.parse(endsAt)];
  const here = `${Z.timeText(start, zone)}–${Z.timeText(end, zone)}`;
  if (!calendarZone || calendarZone === zone || sameClock(start, zone, calendarZone)) return here;
  return `${here} (${Z.timeText(start, calendarZone)}–${Z.timeText(end, calendarZone)} ${Z.zoneCity(calendarZone)} time)`;
}

export function sameClock(ms, a, b) {
  return Z.timeText(ms, a) === Z.timeText(ms, b) && Z.keyOf(ms, a) === Z.keyOf(ms, b);
}

/** "Times are in New York time (EST)." and a word on the calendar's own zone. */
export function zoneNote(state) {
  const calendar = chosenCalendar(state);
  const now = Date.now();
  const here = `Times are in ${Z.zoneCity(state.zone)} time (${Z.zoneAbbr(now, state.zone)}).`;
  if (!calendar || calendar.timezone === state.zone || sameClock(now, state.zone, calendar.timezone)) return here;
  const city = Z.zoneCity(calendar.timezone);
  return `${here} ${calendar.name} keeps ${city} time (${Z.zoneAbbr(now, calendar.timezone)}), shown beside each time.`;
}

const NOTHING = { held: "Nothing was held or booked", book: "Nothing was booked", move: "Nothing was moved", cancel: "It was not cancelled" };

/** Why the hub said no, and what was (not) done. */
export function refusal(error, action) {
  const nothing = NOTHING[action] || "Nothing was changed";
  const code = error?.code;
  const field = error?.details?.field;
  if (code === "slot_taken" && error.details?.rule === "held") {
    return `Someone else is booking that time right now. ${nothing}; please pick another time.`;
  }
  const texts = {
    slot_taken: `That time was just taken. ${nothing}; please pick another time.`,
    outside_availability: `That time is no longer open for booking. ${nothing}; please pick another time.`,
    unavailable: `The booking system has a problem on its side right now. ${nothing}. Booking is paused until it is back.`,
    rate_limited: `Too many tries in a row. ${nothing}; wait a moment and try again.`,
    version_conflict: `This appointment was changed meanwhile; the list shows it as it is now. ${nothing}.`,
    invalid_transition: `This appointment can no longer be changed that way. ${nothing}.`,
    forbidden: `You are not allowed to do that. ${nothing}.`,
  };
  if (code === "not_found" && field === "hold_id") {
    return `Your hold on that time had already ended. ${nothing}; pick the time again to hold it.`;
  }
  if (code === "bad_request" && (field === "starts_at" || field === "ends_at")) {
    return `That time can no longer be booked online (too soon, past, or too far ahead). ${nothing}.`;
  }
  return texts[code] || `The booking system said no (${code || "error"}: ${error?.message || "no reason given"}). ${nothing}.`;
}
