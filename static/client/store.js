// The client page's one store: every view renders from it and every action
// writes to it; nothing else keeps state.

/**
 * State:
 *   calendars      [calendar] taking bookings (is_active)
 *   calendarId     the chosen calendar
 *   zone           the zone times are shown in ("Time zone")
 *   duration       minutes of the appointment to book
 *   month          {y, m} shown by the month calendar
 *   day            "2026-12-01", the chosen day (in `zone`), or null
 *   autoDay        true until the page has picked the first day with free times
 *                  for the calendar and length just chosen (the user's own pick wins)
 *   slots          free slots of the month: [{starts_at, ends_at, start, end}] (ms)
 *   slotsKey       what `slots` was fetched for (calendar, duration, zone, month); null while loading
 *   holds          live holds on the chosen calendar, from the channel
 *   choice         {starts_at, ends_at} the time picked, or null
 *   hold           the user's own live hold of `choice`, or null
 *   holding        true while slot.hold is on its way
 *   holdsWork      false once the hub says it has no slot.hold (older hubs): pick without holding
 *   mine           Map id -> the user's appointments
 *   moving         the appointment being rescheduled, or null
 *   busy           "book" | "move" | "cancel:<id>" while a write is on its way
 *   checking       a write that got no answer, being checked: {kind, text}
 *   notice         {kind: "ok" | "error" | "info", text} about the last action
 *   connection     the socket's state: "live" | "connecting" | "reconnecting" | "offline"
 *   serviceDown    the hub answered `unavailable`: a backing service is down
 *   skew           the hub's clock minus this browser's, in ms
 *   nextFree       {calendarId, duration, key} of the first day with free times, or null
 *   showPast       "Show past and cancelled" is open
 *   weeks          "Book weekly": how many weeks (0: once)
 */
export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    set(patch) {
      const change = typeof patch === "function" ? patch(state) : patch;
      if (!change) return;
      state = { ...state, ...change };
      for (const listener of [...listeners]) {
        try {
          listener(state);
        } catch (error) {
          console.error(error);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Now, on the hub's clock: "past" and "today" agree with what the hub will accept. */
export function hubNow(state) {
  return Date.now() + (state.skew || 0);
}

/** The chosen calendar, or undefined. */
export function chosenCalendar(state) {
  return state.calendars.find((c) => c.id === state.calendarId);
}

/** May the user write now? False offline, while reconnecting and while a backing service is down. */
export function canWrite(state) {
  return state.connection === "live" && !state.serviceDown;
}
