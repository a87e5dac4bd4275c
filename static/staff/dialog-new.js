// "New appointment": calendar, day and times (the viewer's zone), whether and
// how it repeats (repeat.js), title, client found by name or email, notes.

import { $, debounce, h } from "../ui.js";
import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import * as F from "./format.js";
import { Repeat } from "./repeat.js";
import { conflictSentence } from "./series.js";
import { readTimes, timeFields, writeTimes } from "./times.js";

// Fields whose change moves the occurrences of a series: preview again.
const MOVES_SERIES = new Set(["new-calendar", "new-date", "new-start", "new-end"]);

export class NewDialog {
  constructor(store, actions, feedback) {
    this.store = store;
    this.actions = actions;
    this.feedback = feedback;
    this.dialog = $("#new-dialog");
    this.returnTo = null;
    this.fields = timeFields({ date: $("#new-date"), start: $("#new-start"), end: $("#new-end") });
    $("#new-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    $("#new-close").addEventListener("click", () => this.dialog.close());
    $("#new-cancel").addEventListener("click", () => this.dialog.close());
    const search = debounce(() => this.search($("#new-client-search").value.trim()), 200);
    $("#new-client-search").addEventListener("input", search);
    $("#new-client-search").addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter searches now; it does not book
      this.search(event.target.value.trim());
    });
    this.dialog.addEventListener("close", () => this.returnTo?.isConnected && this.returnTo.focus());
    this.repeat = new Repeat(store, actions, () => this.booking());
    const form = $("#new-form");
    const changed = (event) => {
      if (!MOVES_SERIES.has(event.target.id) && !event.target.closest("#rep-options, .repeat-row")) return;
      const booking = MOVES_SERIES.has(event.target.id) && this.booking();
      if (booking) this.repeat.follow(Date.parse(booking.starts_at));
      this.repeat.changed();
    };
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
  }

  /** Open at a place: {calendarId, start, end?, client?}. */
  open(target = {}, returnTo = document.activeElement) {
    this.returnTo = returnTo;
    const calendars = [...this.store.calendars.values()].filter((c) => c.is_active);
    if (!calendars.length) {
      this.feedback.say("There is no active calendar to book on yet.", { kind: "error" });
      return;
    }
    const shown = this.store.view.selected.find((id) => this.store.calendars.get(id)?.is_active);
    const chosen = calendars.some((c) => c.id === target.calendarId) ? target.calendarId : shown || calendars[0].id;
    $("#new-calendar").replaceChildren(...calendars.map((c) => h("option", { value: c.id, selected: c.id === chosen }, c.name)));
    const step = 15 * 60_000;
    const start = target.start ?? Math.ceil(Date.now() / step) * step;
    const end = target.end && target.end - start >= 5 * 60_000 ? target.end : start + 30 * 60_000;
    const tz = this.store.view.tz;
    writeTimes(this.fields, start, end, tz);
    this.repeat.reset(start);
    $("#new-tz").textContent = `Times in ${F.city(tz)} time (${tz}).`;
    $("#new-msg").textContent = "";
    $("#new-title-input").value = "Appointment";
    $("#new-notes").value = "";
    $("#new-client-search").value = target.client ? target.client.full_name : "";
    this.fillClients(target.client ? [target.client] : this.clients());
    if (target.client) $("#new-client").value = target.client.id;
    if (!this.dialog.open) this.dialog.showModal();
    (target.client ? $("#new-title-input") : $("#new-client-search")).focus();
  }

  clients() {
    return [...this.store.people.values()].filter((p) => p.is_active !== false);
  }

  async search(query) {
    const asked = (this.asked = (this.asked || 0) + 1);
    try {
      const people = await this.actions.findPeople(query);
      if (asked === this.asked) this.fillClients(people); // a later search wins
    } catch (error) {
      $("#new-msg").textContent = explain(error);
    }
  }

  fillClients(people) {
    const sorted = people
      .filter((p) => p.is_active !== false)
      .sort((a, b) => (a.role === "user" ? 0 : 1) - (b.role === "user" ? 0 : 1) || a.full_name.localeCompare(b.full_name));
    const select = $("#new-client");
    select.replaceChildren(...sorted.map((p) => h("option", { value: p.id }, `${p.full_name} · ${p.email}${p.role === "user" ? "" : ` (${p.role})`}`)));
    if (select.options.length === 1) select.selectedIndex = 0;
  }

  /** The booking the dialog describes, without its repeat, or null when its times are unusable. */
  booking() {
    const times = readTimes(this.fields, this.store.view.tz);
    if (!times) return null;
    const data = {
      calendar_id: $("#new-calendar").value,
      starts_at: new Date(times.start).toISOString(),
      ends_at: new Date(times.end).toISOString(),
      title: $("#new-title-input").value.trim() || "Appointment",
    };
    if ($("#new-client").value) data.client_id = $("#new-client").value;
    return data;
  }

  async create() {
    const message = $("#new-msg");
    const booking = this.booking();
    if (!booking) {
      message.textContent = "Give a date, a start and an end; the end after the start, at most 12 hours later.";
      return;
    }
    if (!booking.client_id) {
      message.textContent = "Pick the client: search by name or email, then choose one.";
      $("#new-client-search").focus();
      return;
    }
    const rule = this.repeat.rule(booking);
    if (rule?.problem) {
      message.textContent = rule.problem;
      return;
    }
    const data = { ...booking };
    if (rule) data.recurrence = rule.text;
    const notes = $("#new-notes").value.trim();
    if (notes) data.notes = notes;
    message.textContent = "";
    $("#new-submit").disabled = true;
    const tz = this.store.view.tz;
    try {
      const answer = await this.actions.create(data);
      this.dialog.close();
      const start = Date.parse(data.starts_at);
      const first = `${F.day(Z.dayOf(start, tz))} ${F.timeRange(start, Date.parse(data.ends_at), tz)}`;
      const count = answer.appointments?.length || 1;
      if (count > 1) this.feedback.say(`Booked ${count} appointments: ${answer.appointment.title}, ${rule.words}, from ${first}.`);
      else this.feedback.say(`Booked: ${answer.appointment.title}, ${first}.`);
    } catch (error) {
      const conflicts = error.details?.conflicts;
      if (rule && conflicts?.length) this.repeat.refused(conflicts);
      message.textContent = conflicts?.length ? `Nothing was booked: ${conflictSentence(conflicts, tz, "booked", "")}` : explain(error);
      message.dataset.code = error.code || "";
    } finally {
      $("#new-submit").disabled = false;
    }
  }
}
