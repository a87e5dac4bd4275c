// Booking, moving and cancelling. A write that gets no answer (the
// connection dropped, or the hub went quiet) is followed by a check of the
// user's own appointments, repeated until the hub answers, so the page can
// say whether it happened.

import { canWrite } from "./store.js";
import { conflictWords, mostWeeks, weeklyRule } from "./weekly.js";
import { refusal, whenText } from "./words.js";

const ANSWER_MS = 10_000;
const CHECK_EVERY_MS = 3000;
const NO_ANSWER = new Set(["timeout", "connection_lost"]);

export class Writes {
  constructor(hub, store, sync, holds) {
    this.hub = hub;
    this.store = store;
    this.sync = sync;
    this.holds = holds;
    this.stopped = false;
  }

  stop() {
    this.stopped = true;
  }

  /** Book the chosen (held) time. */
  async book(title, notes) {
    const state = this.store.get();
    if (!state.choice || !canWrite(state) || state.busy || state.checking || state.holding) return;
    const data = {
      calendar_id: state.calendarId,
      starts_at: state.choice.starts_at,
      ends_at: state.choice.ends_at,
      title: title || "Appointment",
      idempotency_key: state.choice.key, // the same for every try of this choice: a retry cannot book twice
    };
    if (notes) data.notes = notes;
    if (state.hold) data.hold_id = state.hold.id;
    const weeks = Math.min(state.weeks, mostWeeks(state));
    if (weeks >= 2) data.recurrence = weeklyRule(weeks);
    this.store.set({ busy: "book", notice: { kind: "info", text: "Booking…" } });
    try {
      const answer = await this.hub.request("appointment.create", data, { timeout: ANSWER_MS });
      this.booked(answer.appointment, "Booked", answer.appointments);
    } catch (error) {
      if (NO_ANSWER.has(error.code)) {
        this.checkBooking(data);
        return;
      }
      this.refused(error, "book");
    }
  }

  booked(appointment, lead, series = [appointment]) {
    const state = this.store.get();
    const calendar = state.calendars.find((c) => c.id === appointment.calendar_id);
    const it = series.length > 1 ? "them" : "it";
    const confirm = appointment.status === "pending" ? ` ${calendar?.name || "The clinic"} will confirm ${it}; the status shows under "Your appointments".` : "";
    const weekly = appointment.series_id ? ", and weekly after that" : "";
    const mine = new Map(state.mine);
    for (const a of series) mine.set(a.id, a);
    this.store.set({
      mine,
      weeks: 0,
      choice: null,
      hold: null,
      busy: null,
      checking: null,
      notice: {
        kind: "ok",
        text: `${lead}: ${appointment.title}, ${whenText(state, appointment.starts_at)}${weekly}${series.length > 1 ? ` (${series.length} appointments)` : ""}.${confirm}`,
      },
    });
    this.sync.refreshSoon(0);
  }

  refused(error, action) {
    const state = this.store.get();
    const conflicts = error.details?.conflicts;
    if (conflicts?.length) {
      // A series is all or nothing: the picked time itself may still be free, so it stays held.
      const text = `Not booked: not every week is free (${conflictWords(conflicts, state.zone)}). Nothing was booked; choose fewer weeks or another time.`;
      this.store.set({ busy: null, checking: null, notice: { kind: "error", text } });
      return;
    }
    const lost =
      ["slot_taken", "outside_availability", "bad_request", "not_found"].includes(error.code) &&
      error.details?.field !== "recurrence";
    if (error.details?.current) {
      const current = error.details.current;
      this.store.set({ mine: new Map(state.mine).set(current.id, current) });
    }
    if (lost && state.hold && action !== "cancel") this.hub.release(state.hold.id).catch(() => {});
    this.store.set({
      busy: null,
      checking: null,
      choice: lost && action !== "cancel" ? null : this.store.get().choice,
      hold: lost && action !== "cancel" ? null : this.store.get().hold,
      serviceDown: error.code === "unavailable" || this.store.get().serviceDown,
      notice: { kind: "error", text: refusal(error, action) },
    });
    this.sync.refreshSoon(0);
  }

  /** The booking got no answer: ask for the user's appointments at that time until the hub answers. */
  async checkBooking(data) {
    this.store.set({
      busy: null,
      checking: { kind: "book" },
      notice: { kind: "info", text: "No answer from the booking system yet. Checking whether your booking went through…" },
    });
    const found = await this.mineAt(data.starts_at, data.ends_at, (a) =>
      a.calendar_id === data.calendar_id && sameTime(a, data) && (a.status === "pending" || a.status === "confirmed"),
    );
    if (found === undefined) return; // the page was closed
    if (found) {
      this.booked(found, "It went through. Booked");
      return;
    }
    const { hold } = this.store.get();
    this.store.set({
      checking: null,
      notice: {
        kind: "error",
        text: `It did not go through: the booking system never got it, so nothing was booked. ${hold ? "The time is still held for you; press Book to try again." : "Pick a time and book again."}`,
      },
    });
    this.sync.refreshSoon(0);
  }

  /** Move an appointment to the chosen (held) time. */
  async move(moving) {
    const state = this.store.get();
    const appointment = state.mine.get(moving.id) || moving; // its latest version
    if (!state.choice || !canWrite(state) || state.busy || state.checking || state.holding) return;
    const data = {
      appointment_id: appointment.id,
      version: appointment.version,
      starts_at: state.choice.starts_at,
      ends_at: state.choice.ends_at,
    };
    this.store.set({ busy: "move", notice: { kind: "info", text: "Moving your appointment…" } });
    let answer;
    try {
      answer = await this.updateThroughOwnHold(data, state.hold);
    } catch (error) {
      if (NO_ANSWER.has(error.code)) this.checkMove(data);
      else this.refused(error, "move");
      return;
    }
    this.moved(answer.appointment, "Moved");
  }

  /** If the user's own hold is in the way of their own update, let it go and try once more. */
  async updateThroughOwnHold(data, hold) {
    try {
      return await this.hub.request("appointment.update", data, { timeout: ANSWER_MS });
    } catch (error) {
      if (!(hold && error.code === "slot_taken" && error.details?.rule === "held")) throw error;
      await this.hub.release(hold.id).catch(() => {});
      return this.hub.request("appointment.update", data, { timeout: ANSWER_MS });
    }
  }

  moved(appointment, lead) {
    const state = this.store.get();
    if (state.hold) this.hub.release(state.hold.id).catch(() => {}); // the appointment holds the time now
    this.store.set({
      mine: new Map(state.mine).set(appointment.id, appointment),
      moving: null,
      choice: null,
      hold: null,
      busy: null,
      checking: null,
      notice: { kind: "ok", text: `${lead}: ${appointment.title} is now ${whenText(state, appointment.starts_at)}.` },
    });
    this.sync.refreshSoon(0);
  }

  async checkMove(data) {
    this.store.set({
      busy: null,
      checking: { kind: "move" },
      notice: { kind: "info", text: "No answer from the booking system yet. Checking whether your appointment moved…" },
    });
    const found = await this.mineAt(data.starts_at, data.ends_at, (a) => a.id === data.appointment_id);
    if (found === undefined) return;
    if (found && sameTime(found, data)) {
      this.moved(found, "It went through. Moved");
      return;
    }
    this.store.set({
      checking: null,
      notice: { kind: "error", text: "It did not go through: your appointment was not moved and keeps its time. Try again." },
    });
  }

  /** Cancel one of the user's appointments. */
  async cancel(appointment) {
    const state = this.store.get();
    if (!canWrite(state) || state.busy || state.checking) return;
    this.store.set({ busy: `cancel:${appointment.id}`, notice: null });
    const data = { appointment_id: appointment.id, version: appointment.version };
    try {
      const { appointment: cancelled } = await this.hub.request("appointment.cancel", data, { timeout: ANSWER_MS });
      this.cancelled(cancelled, "Cancelled");
    } catch (error) {
      if (NO_ANSWER.has(error.code)) this.checkCancel(appointment);
      else this.refused(error, "cancel");
    }
  }

  cancelled(appointment, lead) {
    const state = this.store.get();
    this.store.set({
      mine: new Map(state.mine).set(appointment.id, appointment),
      busy: null,
      checking: null,
      moving: state.moving?.id === appointment.id ? null : state.moving,
      notice: { kind: "ok", text: `${lead}: ${appointment.title}, ${whenText(state, appointment.starts_at)}.` },
    });
    this.sync.refreshSoon(0);
  }

  async checkCancel(appointment) {
    this.store.set({
      busy: null,
      checking: { kind: "cancel" },
      notice: { kind: "info", text: "No answer from the booking system yet. Checking whether your appointment was cancelled…" },
    });
    const found = await this.mineAt(appointment.starts_at, appointment.ends_at, (a) => a.id === appointment.id);
    if (found === undefined) return;
    if (found?.status === "cancelled") {
      this.cancelled(found, "It went through. Cancelled");
      return;
    }
    this.store.set({
      checking: null,
      notice: { kind: "error", text: "It did not go through: your appointment is still booked. Try again." },
    });
  }

  /**
   * The user's appointment at [startsAt, endsAt) that `match` picks, asking
   * until the hub answers (requests wait for the connection to come back).
   * Resolves with it, null when there is none, undefined when the page stopped.
   */
  async mineAt(startsAt, endsAt, match) {
    const data = { channel: `user:${this.store.get().userId}`, from: startsAt, to: endsAt };
    while (!this.stopped) {
      try {
        const { appointments } = await this.hub.request("appointments.list", data, { timeout: ANSWER_MS });
        return appointments.find(match) || null;
      } catch (error) {
        if (error.code === "offline") return undefined;
        await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
      }
    }
    return undefined;
  }
}

function sameTime(a, b) {
  return Date.parse(a.starts_at) === Date.parse(b.starts_at) && Date.parse(a.ends_at) === Date.parse(b.ends_at);
}

