// The dialog of one appointment (or time-off block): what it is, its status
// actions (asked once where they are hard to undo), a new time, its title and
// notes; it follows live changes made by others while open. An occurrence of
// a recurring series says so, with its place in the series, and asks which
// occurrences a change is for (scope.js).

import { $, show } from "../ui.js";
import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import { confirmAction } from "./confirm.js";
import { STATUS_WORDS, describe, ownZone, when } from "./describe.js";
import * as F from "./format.js";
import { ACTIVE } from "./store.js";
import { scopeFor } from "./scope.js";
import { explainSeries, howMany, placeInSeries } from "./series.js";
import { readTimes, timeFields, writeTimes } from "./times.js";

export class AppointmentDialog {
  constructor(store, actions, feedback) {
    this.store = store;
    this.actions = actions;
    this.feedback = feedback;
    this.dialog = $("#appt-dialog");
    this.item = null;
    this.returnTo = null;
    this.dirty = false;
    this.fields = timeFields({ date: $("#move-date"), start: $("#move-start"), end: $("#move-end") });
    $("#appt-actions").addEventListener("click", (event) => {
      const action = event.target.closest("button[data-action]")?.dataset.action;
      if (action) this.act(action);
    });
    $("#move-save").addEventListener("click", () => this.reschedule());
    $("#edit-save").addEventListener("click", () => this.saveDetails());
    $("#appt-form").addEventListener("submit", (event) => {
      if (event.submitter?.value === "close") return;
      event.preventDefault(); // Enter in a time field saves the new time
      if (!$("#appt-move").hidden) this.reschedule();
    });
    for (const id of ["#move-date", "#move-start", "#move-end", "#edit-title", "#edit-notes"]) $(id).addEventListener("input", () => (this.dirty = true));
    this.dialog.addEventListener("close", () => {
      this.item = null;
      this.returnTo?.isConnected && this.returnTo.focus();
    });
    store.on((change) => this.onStore(change));
  }

  open(item, returnTo = document.activeElement) {
    this.item = item;
    this.returnTo = returnTo;
    this.dirty = false;
    $("#appt-msg").textContent = "";
    $("#appt-changed").textContent = "";
    $("#appt-edit").open = false;
    this.members = null; // the occurrences of its series, once asked for
    this.fill();
    if (!this.dialog.open) this.dialog.showModal();
    if (item.series_id) this.loadSeries(item);
  }

  /** Where this occurrence sits in its series: its client's appointments of the same series. */
  async loadSeries(item) {
    try {
      const members = await this.actions.seriesOf(item);
      if (this.item?.id !== item.id) return;
      this.members = members;
      this.fill();
    } catch {
      /* the series line stays without its place */
    }
  }

  /** Someone else's change to the open item shows here at once. */
  onStore(change) {
    if (!this.item) return;
    if (change.type === "people" || change.type === "view") return this.fill();
    if (change.type !== "items") return;
    for (const { after, origin } of change.changes) {
      if (!after || after.id !== this.item.id || after.version < this.item.version) continue;
      const before = this.item;
      this.item = after;
      if (origin !== "mine") {
        this.dirty = false;
        $("#appt-changed").textContent = changeNote(before, after, this.store.view.tz);
      }
      this.fill();
    }
  }

  fill() {
    const a = this.item;
    const tz = this.store.view.tz;
    const d = describe(a, this.store, tz);
    this.dialog.dataset.id = a.id;
    this.dialog.dataset.version = String(a.version);
    $("#appt-title").textContent = d.block ? d.title : a.title || "Appointment";
    const badge = $("#appt-status");
    badge.className = `badge status-${a.status}`;
    badge.textContent = d.block ? (a.status === "cancelled" ? "lifted" : "time off") : STATUS_WORDS[a.status];
    const own = d.calendar ? ownZone(d.s, d.e, tz, d.calendar.timezone) : "";
    $("#appt-when").textContent = `${when(a, tz)}${own ? ` (${own})` : ""}`;
    $("#appt-calendar").textContent = d.calendar?.name || a.calendar_id;
    const person = this.store.people.get(a.client_id);
    $("#appt-client").textContent = d.block ? `Blocked by ${person?.full_name || "staff"}` : person ? `${person.full_name} · ${person.email}` : "—";
    $("#appt-client-label").textContent = d.block ? "By" : "Client";
    $("#appt-notes").textContent = a.notes || "—";
    const series = Boolean(a.series_id);
    show($("#appt-series-label"), series);
    show($("#appt-series"), series);
    const place = series && this.members ? placeInSeries(a, this.members, tz) : "";
    $("#appt-series").textContent = series ? `Part of a recurring series${place ? `: ${place}` : ""}` : "";
    const started = Date.now() >= d.s;
    const can = {
      confirmed: !d.block && a.status === "pending",
      completed: !d.block && a.status === "confirmed" && started,
      no_show: !d.block && a.status === "confirmed" && started,
      cancel: !d.block && ACTIVE.has(a.status),
      unblock: d.block && a.status !== "cancelled",
    };
    for (const button of document.querySelectorAll("#appt-actions button")) show(button, can[button.dataset.action]);
    show($("#appt-move"), !d.block && ACTIVE.has(a.status));
    show($("#appt-edit"), !d.block && ACTIVE.has(a.status));
    $("#appt-move-tz").textContent = `(${F.city(tz)} time)`;
    if (!this.dirty) {
      writeTimes(this.fields, d.s, d.e, tz);
      $("#edit-title").value = a.title || "";
      $("#edit-notes").value = a.notes || "";
    }
  }

  async act(action) {
    const a = this.item;
    if (!a) return;
    const d = describe(a, this.store);
    const asks = {
      cancel: { title: "Cancel this appointment?", body: `${d.title} with ${d.who || "the client"}, ${when(a, this.store.view.tz)}. You can undo it for a few seconds afterwards.`, confirm: "Cancel appointment", keep: "Keep appointment" },
      completed: { title: "Mark as completed?", body: `${d.title} with ${d.who || "the client"}, ${when(a, this.store.view.tz)}.`, confirm: "Complete", keep: "Go back", danger: false },
      no_show: { title: "Mark as a no-show?", body: `${d.who || "The client"} did not come to ${d.title}, ${when(a, this.store.view.tz)}.`, confirm: "Mark no-show", keep: "Go back" },
    };
    // An occurrence of a series: the scope question is the confirmation.
    const scope = action === "cancel" && a.series_id ? await scopeFor(a, "cancel", this.store) : "one";
    if (!scope) return;
    if (asks[action] && !a.series_id && !(await confirmAction(asks[action]))) return;
    const busy = [...this.dialog.querySelectorAll("button")];
    busy.forEach((b) => (b.disabled = true));
    try {
      if (action === "cancel") {
        const answer = await this.actions.cancel(a, scope);
        this.dialog.close();
        if (scope === "one") this.offerUndo(answer.appointment);
        else this.feedback.say(`Cancelled ${howMany(answer)}: ${d.title}.`);
      } else if (action === "unblock") {
        await this.actions.unblock(a);
        this.dialog.close();
        this.feedback.say(`Time off lifted: ${when(a, this.store.view.tz)}.`);
      } else {
        await this.actions.setStatus(a, action);
        this.dialog.close();
        this.feedback.say(`${{ confirmed: "Confirmed", completed: "Completed", no_show: "Marked as a no-show" }[action]}: ${d.title}, ${when(a, this.store.view.tz)}.`);
      }
    } catch (error) {
      this.refused(error);
    } finally {
      busy.forEach((b) => (b.disabled = false));
    }
  }

  offerUndo(cancelled) {
    const words = `${cancelled.title}, ${when(cancelled, this.store.view.tz)}`;
    this.feedback.say(`Cancelled: ${words}.`, {
      action: {
        label: "Undo",
        run: async () => {
          try {
            await this.actions.rebook(cancelled);
            this.feedback.say(`Booked again: ${words}.`);
          } catch (error) {
            this.feedback.say(`Could not undo: ${explain(error)}`, { kind: "error", code: error.code });
          }
        },
      },
    });
  }

  async reschedule() {
    const a = this.item;
    if (!a) return;
    const tz = this.store.view.tz;
    const times = readTimes(this.fields, tz);
    if (!times) {
      $("#appt-msg").textContent = "Give a date, a start and an end; the end after the start, at most 12 hours later.";
      return;
    }
    const scope = await scopeFor(a, "move", this.store);
    if (!scope) return;
    try {
      const answer = await this.actions.move(a, times.start, times.end, scope);
      this.dialog.close();
      const place = `${F.day(Z.dayOf(times.start, tz))}, ${F.timeRange(times.start, times.end, tz)}`;
      if (scope === "one") this.feedback.say(`Moved: ${a.title} to ${place}.`);
      else this.feedback.say(`Moved ${howMany(answer)} ${a.title}; this one is now ${place}.`);
    } catch (error) {
      this.refused(error, "moved");
    }
  }

  /** A new title or notes (for the occurrences the scope names). */
  async saveDetails() {
    const a = this.item;
    if (!a) return;
    const title = $("#edit-title").value.trim();
    if (!title) {
      $("#appt-msg").textContent = "Give the appointment a title.";
      return;
    }
    const fields = { title, notes: $("#edit-notes").value.trim() };
    if (fields.title === a.title && fields.notes === (a.notes || "")) {
      $("#appt-msg").textContent = "Nothing to save: the title and notes are as they were.";
      return;
    }
    const scope = await scopeFor(a, "edit", this.store);
    if (!scope) return;
    try {
      const answer = await this.actions.edit(a, fields, scope);
      this.dialog.close();
      this.feedback.say(scope === "one" ? `Saved: ${title}.` : `Saved ${howMany(answer)}: ${title}.`);
    } catch (error) {
      this.refused(error, "changed");
    }
  }

  refused(error, verb = "changed") {
    this.dirty = false;
    this.fill();
    const message = $("#appt-msg");
    message.textContent = explainSeries(error, this.store.view.tz, verb);
    message.dataset.code = error.code || "";
  }
}

function changeNote(before, after, tz) {
  if (after.status !== before.status) {
    return `Someone else just changed this to ${STATUS_WORDS[after.status]}.`;
  }
  if (after.starts_at !== before.starts_at || after.ends_at !== before.ends_at) {
    return `Someone else just moved this to ${when(after, tz)}.`;
  }
  return "Someone else just changed this appointment.";
}
