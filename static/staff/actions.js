// Every request the staff application sends, and what a refusal means in a
// receptionist's words. Answers go into the store at once; a refusal puts the
// hub's current truth there instead.

import { randomKey } from "../hub-client.js";

export class Actions {
  constructor(hub, store, live) {
    this.hub = hub;
    this.store = store;
    this.live = live;
  }

  /** Send a write about one item; its answer (or the truth after a refusal) lands in the store. */
  async write(type, data, item = null) {
    // The echoes of our own write are not news; for a series, any occurrence's may be ours.
    const own = item ? this.occurrencesOf(item, data.scope).map((one) => one.id) : [];
    for (const id of own) this.store.own.add(id);
    try {
      const answer = await this.hub.request(type, data);
      const written = answer.appointments || [answer.appointment || answer.block].filter(Boolean);
      for (const one of written) this.store.put(one, "mine");
      return answer;
    } catch (error) {
      const current = error.details?.current;
      if (current) this.store.put(current, "live", true);
      const calendarId = item?.calendar_id || data.calendar_id;
      if (calendarId && !current) this.live.resync(calendarId);
      throw error;
    } finally {
      for (const id of own) this.store.own.delete(id);
    }
  }

  /** The item and, when a write's scope reaches further, the other occurrences of its series in the store. */
  occurrencesOf(item, scope = "one") {
    if (!item.series_id || scope === "one") return [item];
    return [...this.store.items.values()].filter((one) => one.id === item.id || one.series_id === item.series_id);
  }

  /** A new time for an appointment; for an occurrence of a series, `scope` says which others move with it. */
  move(item, startMs, endMs, scope = "one") {
    const data = {
      appointment_id: item.id,
      version: item.version,
      starts_at: new Date(startMs).toISOString(),
      ends_at: new Date(endMs).toISOString(),
    };
    return this.write("appointment.update", withScope(data, item, scope), item);
  }

  /** A new title or notes, for one appointment or (by scope) occurrences of its series. */
  edit(item, fields, scope = "one") {
    return this.write("appointment.update", withScope({ appointment_id: item.id, version: item.version, ...fields }, item, scope), item);
  }

  setStatus(item, status) {
    return this.write("appointment.set_status", { appointment_id: item.id, status, version: item.version }, item);
  }

  cancel(item, scope = "one") {
    return this.write("appointment.cancel", withScope({ appointment_id: item.id, version: item.version }, item, scope), item);
  }

  /** Undo of a cancel: the hub allows it as a new booking of the same slot. */
  rebook(cancelled) {
    const data = {
      calendar_id: cancelled.calendar_id,
      starts_at: cancelled.starts_at,
      ends_at: cancelled.ends_at,
      title: cancelled.title || "Appointment",
      client_id: cancelled.client_id,
      idempotency_key: `undo-${cancelled.id}-${cancelled.version}`,
    };
    if (cancelled.notes) data.notes = cancelled.notes;
    return this.write("appointment.create", data);
  }

  /** A new appointment; the same form sent again (after a dropped answer) reuses its key. */
  create(data) {
    const fingerprint = JSON.stringify(data);
    if (this._lastCreate?.fingerprint !== fingerprint) this._lastCreate = { fingerprint, key: randomKey() };
    const sent = this.write("appointment.create", { ...data, idempotency_key: this._lastCreate.key });
    return sent.then(
      (answer) => {
        this._lastCreate = null;
        return answer;
      },
      (error) => {
        if (error.code !== "connection_lost" && error.code !== "timeout") this._lastCreate = null;
        throw error;
      },
    );
  }

  /** What a create would book and refuse, booking nothing: {occurrences, conflicts}. */
  preview(data) {
    return this.hub.request("appointment.create", { ...data, preview: true });
  }

  block(calendarId, startMs, endMs, reason) {
    const data = {
      calendar_id: calendarId,
      starts_at: new Date(startMs).toISOString(),
      ends_at: new Date(endMs).toISOString(),
    };
    if (reason) data.reason = reason;
    return this.write("calendar.block", data);
  }

  unblock(item) {
    return this.write("calendar.unblock", { block_id: item.id }, item);
  }

  /** End someone's live hold (staff may). */
  releaseHold(hold) {
    return this.hub.release(hold.id);
  }

  // Administration and look-ups

  async saveCalendar(calendarId, fields) {
    const answer = calendarId
      ? await this.hub.request("calendar.update", { calendar_id: calendarId, ...fields })
      : await this.hub.request("calendar.create", fields);
    this.store.putCalendar(answer.calendar);
    return answer.calendar;
  }

  async findPeople(query) {
    const { users } = await this.hub.request("users.list", query ? { query } : {});
    this.store.addPeople(users);
    return users;
  }

  async updateUser(userId, changes) {
    const { user } = await this.hub.request("user.update", { user_id: userId, ...changes });
    this.store.addPeople([user]);
    return user;
  }

  /** Every occurrence of an item's series (from its client's channel), soonest first. */
  async seriesOf(item) {
    return (await this.appointmentsOf(item.client_id)).filter((one) => one.series_id === item.series_id);
  }

  /** Every appointment of one client (their user channel), soonest first. */
  async appointmentsOf(userId) {
    const { appointments } = await this.hub.request("appointments.list", { channel: `user:${userId}` });
    return appointments.sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
  }
}

/** A write's data with its scope, for an occurrence of a series (a lone appointment takes none). */
function withScope(data, item, scope) {
  return item.series_id ? { ...data, scope } : data;
}

const PLAIN = {
  version_conflict: "Someone else changed this appointment a moment ago; you now see their version. Check it and try again if still needed.",
  outside_availability: "That time is outside the calendar's working hours.",
  forbidden: "Your account is not allowed to do that.",
  not_found: "That no longer exists; someone may have removed it.",
  connection_lost: "The connection dropped before the hub answered. Check the calendar, then try again if needed.",
  timeout: "The hub did not answer in time. Check the calendar, then try again if needed.",
  rate_limited: "Too many changes at once; wait a moment and try again.",
  unavailable: "The hub is unavailable right now; nothing was changed. Try again in a moment.",
  offline: "You are offline; nothing was changed.",
  already_exists: "That already exists.",
};

/** A sentence a receptionist understands, for an error answer. */
export function explain(error) {
  const code = error?.code;
  if (code === "slot_taken") {
    const rule = error.details?.rule;
    if (rule === "held") return "Someone is booking that time right now; pick another time.";
    if (rule === "buffer") return "That is too close to another appointment on this calendar.";
    return "That time is already booked on this calendar; pick another time.";
  }
  if (code === "invalid_transition") {
    return /started|before/.test(error.message || "")
      ? "An appointment can be completed or marked as a no-show only once it has started."
      : "That is not possible from the appointment's current status.";
  }
  if (code === "bad_request") return `The hub refused that: ${error.message || "a field is not valid"}.`;
  return PLAIN[code] || "Something went wrong; nothing was changed.";
}
