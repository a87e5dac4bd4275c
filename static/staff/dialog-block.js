// "Block time": time off on a calendar (calendar.block), from a range
// selected in the grid; lifted later from the block itself.

import { $, h } from "../ui.js";
import { explain } from "./actions.js";
import * as F from "./format.js";
import { readTimes, timeFields, writeTimes } from "./times.js";

const MAX_BLOCK_MS = 24 * 3600_000;

export class BlockDialog {
  constructor(store, actions, feedback) {
    this.store = store;
    this.actions = actions;
    this.feedback = feedback;
    this.dialog = $("#block-dialog");
    this.onDone = () => {};
    this.fields = timeFields({ date: $("#block-date"), start: $("#block-start"), end: $("#block-end") });
    $("#block-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    $("#block-close").addEventListener("click", () => this.dialog.close());
    $("#block-cancel").addEventListener("click", () => this.dialog.close());
  }

  /** Open for a range {calendarId, start, end}; onDone runs after a block is made. */
  open(range, onDone = () => {}) {
    this.onDone = onDone;
    const calendars = [...this.store.calendars.values()].filter((c) => this.store.shown(c.id));
    const chosen = range.calendarId || calendars[0]?.id;
    $("#block-calendar").replaceChildren(...calendars.map((c) => h("option", { value: c.id, selected: c.id === chosen }, c.name)));
    writeTimes(this.fields, range.start, range.end, this.store.view.tz);
    $("#block-tz").textContent = `Times in ${F.city(this.store.view.tz)} time.`;
    $("#block-reason").value = "Time off";
    $("#block-msg").textContent = "";
    if (!this.dialog.open) this.dialog.showModal();
    $("#block-reason").select();
  }

  async save() {
    const message = $("#block-msg");
    const times = readTimes(this.fields, this.store.view.tz, MAX_BLOCK_MS);
    if (!times) {
      message.textContent = "Give a date, a start and an end; the end after the start.";
      return;
    }
    $("#block-submit").disabled = true;
    try {
      await this.actions.block($("#block-calendar").value, times.start, times.end, $("#block-reason").value.trim());
      this.dialog.close();
      const tz = this.store.view.tz;
      this.feedback.say(`Time blocked: ${F.timeRange(times.start, times.end, tz)}.`);
      this.onDone();
    } catch (error) {
      message.textContent = error.code === "slot_taken" ? "That range overlaps an appointment or another block; choose free time only." : explain(error);
      message.dataset.code = error.code || "";
    } finally {
      $("#block-submit").disabled = false;
    }
  }
}
