// "New appointment": calendar, day and times (the viewer's zone), title,
// client found by name or email, notes.

import { $, debounce, h } from "../ui.js";
import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import * as F from "./format.js";
import { readTimes, timeFields, writeTimes } from "./times.js";

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

  async create() {
    const message = $("#new-msg");
    const times = readTimes(this.fields, this.store.view.tz);
    if (!times) {
      message.textContent = "Give a date, a start and an end; the end after the start, at most 12 hours later.";
      return;
    }
    if (!$("#new-client").value) {
      message.textContent = "Pick the client: search by name or email, then choose one.";
      $("#new-client-search").focus();
      return;
    }
    const data = {
      calendar_id: $("#new-calendar").value,
      starts_at: new Date(times.start).toISOString(),
      ends_at: new Date(times.end).toISOString(),
      title: $("#new-title-input").value.trim() || "Appointment",
      client_id: $("#new-client").value,
    };
    const notes = $("#new-notes").value.trim();
    if (notes) data.notes = notes;
    message.textContent = "";
    $("#new-submit").disabled = true;
    try {
      const { appointment } = await this.actions.create(data);
      this.dialog.close();
      const tz = this.store.view.tz;
      this.feedback.say(`Booked: ${appointment.title}, ${F.day(Z.dayOf(times.start, tz))} ${F.timeRange(times.start, times.end, tz)}.`);
    } catch (error) {
      message.textContent = explain(error);
      message.dataset.code = error.code || "";
    } finally {
      $("#new-submit").disabled = false;
    }
  }
}
