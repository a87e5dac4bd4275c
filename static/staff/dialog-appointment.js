// The dialog of one appointment (or time-off block): what it is, its status
// actions (asked once where they are hard to undo), a new time; it follows
// live changes made by others while open.

import { $, show } from "../ui.js";
import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import { confirmAction } from "./confirm.js";
import { STATUS_WORDS, describe, ownZone, when } from "./describe.js";
import * as F from "./format.js";
import { ACTIVE } from "./store.js";
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
    $("#appt-form").addEventListener("submit", (event) => {
      if (event.submitter?.value === "close") return;
      event.preventDefault(); // Enter in a time field saves the new time
      if (!$("#appt-move").hidden) this.reschedule();
    });
    for (const id of ["#move-date", "#move-start", "#move-end"]) $(id).addEventListener("input", () => (this.dirty = true));
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
    this.fill();
    if (!this.dialog.open) this.dialog.showModal();
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
    $("#appt-move-tz").textContent = `(${F.city(tz)} time)`;
    if (!this.dirty) writeTimes(this.fields, d.s, d.e, tz);
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
    if (asks[action] && !(await confirmAction(asks[action]))) return;
    const busy = [...this.dialog.querySelectorAll("button")];
    busy.forEach((b) => (b.disabled = true));
    try {
      if (action === "cancel") {
        const { appointment } = await this.actions.cancel(a);
        this.dialog.close();
        this.offerUndo(appointment);
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
    try {
      await this.actions.move(a, times.start, times.end);
      this.dialog.close();
      this.feedback.say(`Moved: ${a.title} to ${F.day(Z.dayOf(times.start, tz))}, ${F.timeRange(times.start, times.end, tz)}.`);
    } catch (error) {
      this.refused(error);
    }
  }

  refused(error) {
    this.dirty = false;
    this.fill();
    const message = $("#appt-msg");
    message.textContent = explain(error);
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
