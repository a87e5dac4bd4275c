// The schedule screen: toolbar (views, periods, time zone), the legend of
// calendars, and whichever view is chosen. Turns the views' intents (book
// here, open this, move that) into dialogs and requests.

import { $, h, show } from "../ui.js";
import * as Z from "../zoned.js";
import { AgendaView } from "./agenda.js";
import { explain } from "./actions.js";
import { confirmAction } from "./confirm.js";
import { GridDrag } from "./drag.js";
import * as F from "./format.js";
import { GridKeys } from "./gridkeys.js";
import { holdWhen, holderName } from "./holds.js";
import { scopeFor } from "./scope.js";
import { explainSeries, howMany } from "./series.js";
import { MonthView } from "./month.js";
import { VIEWS, periodOf, step } from "./period.js";
import { openIntervals } from "./store.js";
import { TimeGrid } from "./timegrid.js";
import { writeState } from "./url.js";
import { fillZoneSelect } from "./zones.js";

const LOAD_WAIT_MS = 800;

export class Schedule {
  constructor({ store, actions, feedback, dialogs }) {
    this.store = store;
    this.actions = actions;
    this.feedback = feedback;
    this.dialogs = dialogs; // {appointment, create, block}
    this.host = $("#view-host");
    this.view = null;
    this.range = null; // the selected range of the grid
    const intents = {
      newAt: (target) => target && this.offer(target),
      open: (item) => this.dialogs.appointment.open(item),
      openHold: (hold) => this.releaseHold(hold),
      move: (item, start, end) => this.move(item, start, end),
      blockTime: (range) => this.dialogs.block.open(range, () => this.select(null)),
      selection: (range) => this.select(range),
      announce: (text) => ($("#grid-status").textContent = text),
      openDay: (day) => this.go({ mode: "day", anchor: day }),
    };
    this.intents = intents;
    this.grid = new TimeGrid(store, this.host);
    this.keys = new GridKeys(this.grid, intents);
    this.drag = new GridDrag(this.grid, this.keys, intents);
    this.month = new MonthView(store, intents);
    this.agenda = new AgendaView(store, intents);
    this.bind();
    store.on((change) => this.onStore(change));
    this.timer = setInterval(() => this.grid.el?.isConnected && this.grid.renderNow(), 30_000);
  }

  bind() {
    for (const mode of VIEWS) $(`#view-${mode}`).addEventListener("click", () => this.go({ mode }));
    $("#nav-prev").addEventListener("click", () => this.go({ anchor: step(this.store.view.mode, this.store.view.anchor, -1) }));
    $("#nav-next").addEventListener("click", () => this.go({ anchor: step(this.store.view.mode, this.store.view.anchor, 1) }));
    $("#nav-today").addEventListener("click", () => this.today());
    $("#view-tz").addEventListener("change", (event) => this.go({ tz: event.target.value }));
    $("#new-appt").addEventListener("click", () => this.dialogs.create.open({}));
    $("#show-cancelled").addEventListener("change", (event) => this.go({ showCancelled: event.target.checked }));
    $("#sel-new").addEventListener("click", () => this.range && this.dialogs.create.open(this.range));
    $("#sel-block").addEventListener("click", () => this.range && this.intents.blockTime(this.range));
    $("#sel-clear").addEventListener("click", () => this.select(null));
    this.host.addEventListener("keydown", (event) => {
      if (this.view === this.grid) this.keys.onKeyDown(event);
    });
    this.drag.attach(this.host);
  }

  /** Change the view, redraw, and keep the address in step. */
  go(changes) {
    if (changes.mode && changes.mode !== "day" && changes.mode !== "week") this.select(null);
    $("#range-note").replaceChildren();
    this.store.setView(changes);
    writeState(this.store.view);
  }

  /** Today; but a week with nothing left ahead gives way to the next one. */
  today(changes = {}) {
    const { tz, mode } = this.store.view;
    const anchor = Z.today(tz);
    if (mode === "week" && this.nothingLeft(anchor, changes.selected || this.store.view.selected)) {
      this.go({ ...changes, anchor: Z.startOfWeek(step("week", anchor, 1), this.store.view.firstDay) });
      this.noteNextWeek(anchor);
    } else {
      this.go({ ...changes, anchor });
    }
  }

  /** No working hours of the shown calendars remain from now to the end of the week. */
  nothingLeft(anchor, selected) {
    const { tz, firstDay } = this.store.view;
    const week = periodOf("week", anchor, tz, firstDay);
    const now = Date.now();
    const calendars = selected.map((id) => this.store.calendars.get(id)).filter(Boolean);
    return calendars.length > 0 && calendars.every((c) => openIntervals(c, now, week.to).every(([, b]) => b <= now));
  }

  noteNextWeek(anchor) {
    const back = h("button", { type: "button", class: "link" }, "Show this week anyway");
    back.addEventListener("click", () => this.go({ anchor }));
    $("#range-note").replaceChildren(h("span", {}, `Nothing is left this week after ${F.day(anchor)}, so this is next week. `), back);
  }

  onStore(change) {
    if (change.type === "view" || change.type === "calendars") {
      this.pending = null; // a full render reads everything anyway
      this.renderToolbar();
      this.render();
    } else if (change.type === "holds") {
      this.flush();
      if (this.view === this.grid) this.grid.updateHolds(change.changes);
    } else if (change.type === "items" && !change.snapshot) {
      this.flush(); // a live change or our own answer: at once, after anything waiting
      this.view?.update(change.changes);
    } else if (change.type === "items" || change.type === "people") {
      // Snapshots and names come in bursts (sign-in, reconnect, a new period): draw them
      // once, when the last snapshot of the period is in (or after LOAD_WAIT_MS at most).
      this.pending ??= { changes: [], relabel: false };
      if (change.type === "people") this.pending.relabel = true;
      else this.pending.changes.push(...change.changes);
      if (!this.store.loading) this.frame ??= requestAnimationFrame(() => this.flush());
      else this.loadTimer ??= setTimeout(() => this.flush(), LOAD_WAIT_MS);
    }
  }

  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    clearTimeout(this.loadTimer);
    this.frame = null;
    this.loadTimer = null;
    const pending = this.pending;
    this.pending = null;
    if (!pending || !this.view) return;
    if (pending.relabel) this.view.relabel();
    else this.view.update(pending.changes);
  }

  renderToolbar() {
    const { view, period } = this.store;
    for (const mode of VIEWS) $(`#view-${mode}`).setAttribute("aria-pressed", String(view.mode === mode));
    $("#range-title").textContent = period.heading;
    fillZoneSelect($("#view-tz"), view.tz);
    $("#show-cancelled").checked = view.showCancelled;
    this.renderPicks();
  }

  renderPicks() {
    const picks = [...this.store.calendars.values()].map((c) => {
      const input = h("input", { type: "checkbox", value: c.id, checked: this.store.shown(c.id) });
      input.addEventListener("change", () => {
        const selected = input.checked ? [...this.store.view.selected, c.id] : this.store.view.selected.filter((id) => id !== c.id);
        this.go({ selected: [...this.store.calendars.keys()].filter((id) => selected.includes(id)) });
      });
      const zone = c.timezone === this.store.view.tz ? "" : ` · ${F.city(c.timezone)}`;
      return h(
        "label",
        { class: `pick cal-${this.store.colors.get(c.id)}${c.is_active ? "" : " inactive"}` },
        input,
        h("span", { class: "chip", "aria-hidden": "true" }),
        h("span", { class: "pick-name" }, c.name),
        h("small", {}, `${zone}${c.is_active ? "" : " · inactive"}`),
      );
    });
    $("#calendar-picks").replaceChildren(...picks);
  }

  render() {
    const { mode } = this.store.view;
    this.keys.moving && this.keys.stopMove("");
    this.select(null);
    const calendars = this.store.calendars.size;
    if (!calendars || !this.store.view.selected.length) {
      this.view = null;
      this.host.replaceChildren(this.emptyState(calendars));
      return;
    }
    this.view = mode === "month" ? this.month : mode === "agenda" ? this.agenda : this.grid;
    this.host.dataset.view = mode;
    this.host.replaceChildren(this.view.render());
    if (this.view === this.grid) this.grid.scrollToWork();
    else this.host.scrollTop = 0;
  }

  emptyState(calendars) {
    if (calendars) return h("p", { class: "empty-state" }, "No calendar is shown. Tick one or more calendars above to see their appointments.");
    if (this.store.user.role === "admin") {
      return h("p", { class: "empty-state" }, "There are no calendars yet. ", h("a", { href: "#calendars" }, "Create the first calendar"), " to start booking.");
    }
    return h("p", { class: "empty-state" }, "There are no calendars yet. An administrator creates them under Calendars.");
  }

  /** The selected range of free time in the grid (or none). */
  select(range) {
    this.range = range;
    if (!range && this.grid.selection) this.grid.setSelection(null);
    const bar = $("#selection-bar");
    show(bar, Boolean(range));
    if (!range) return;
    const calendar = this.store.calendars.get(range.calendarId);
    const tz = this.store.view.tz;
    $("#sel-text").textContent = `${F.day(Z.dayOf(range.start, tz))}, ${F.timeRange(range.start, range.end, tz)}${calendar ? `, ${calendar.name}` : ""}`;
  }

  /** New appointment at a place of the grid, unless someone is booking that time right now. */
  offer(target) {
    const end = target.end ?? target.start + 15 * 60_000;
    const hold = target.calendarId && this.store.heldAgainst(target.calendarId, target.start, end);
    if (!hold) return this.dialogs.create.open(target);
    const words = `${holdWhen(hold, this.store.view.tz)} is being booked right now; pick another time.`;
    this.intents.announce(words);
    this.feedback.say(words, { kind: "info" });
  }

  /** A hold's block: staff may end it (a client who walked away), after asking once. */
  async releaseHold(hold) {
    const tz = this.store.view.tz;
    const who = holderName(hold, this.store) || "Someone";
    const ok = await confirmAction({
      title: "Release this hold?",
      body: `${who === "you" ? "You are" : `${who} is`} booking ${holdWhen(hold, tz)} right now. Releasing the hold lets anyone book that time.`,
      confirm: "Release hold",
      keep: "Leave it",
    });
    if (!ok) return;
    try {
      await this.actions.releaseHold(hold);
      this.feedback.say(`Released the hold on ${holdWhen(hold, tz)}.`);
    } catch (error) {
      const why = error.code === "not_found" ? "That hold has already ended." : explain(error);
      this.feedback.say(why, { kind: "error", code: error.code });
    }
  }

  /** Move (or resize) an appointment; a refusal leaves it where it was, and says why. */
  async move(item, start, end) {
    const tz = this.store.view.tz;
    try {
      const scope = await scopeFor(item, "move", this.store); // an occurrence of a series: which ones?
      if (!scope) {
        this.intents.announce("Move cancelled; the appointment stays where it was.");
        return;
      }
      const answer = await this.actions.move(item, start, end, scope);
      const place = `${F.day(Z.dayOf(start, tz))}, ${F.timeRange(start, end, tz)}`;
      if (scope === "one") this.feedback.say(`Moved: ${item.title} to ${place}.`);
      else this.feedback.say(`Moved ${howMany(answer)} ${item.title}; this one is now ${place}.`);
    } catch (error) {
      this.feedback.say(`${item.title} was not moved. ${explainSeries(error, tz, "moved")}`, { kind: "error", code: error.code });
    } finally {
      if (this.view === this.grid) this.grid.focusBlock(item.id);
    }
  }

  /** Show one appointment: its day, its calendar, then open it. */
  reveal(item) {
    const tz = this.store.view.tz;
    const day = Z.dayOf(Date.parse(item.starts_at), tz);
    const selected = this.store.shown(item.calendar_id) ? this.store.view.selected : [...this.store.view.selected, item.calendar_id];
    const mode = this.store.view.mode === "month" ? "week" : this.store.view.mode;
    this.go({ mode, anchor: day, selected });
    this.store.put(item, "snapshot");
    if (this.view === this.grid) this.grid.focusBlock(item.id);
    this.dialogs.appointment.open(this.store.get(item.id) || item, this.grid.blocksOf(item.id)[0] || null);
  }

  stop() {
    clearInterval(this.timer);
  }
}
