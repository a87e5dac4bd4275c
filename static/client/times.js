// The free times of the chosen day: one button per time, named by the time;
// the picked one is pressed. Grouped into morning, afternoon and evening.

import { h } from "../ui.js";
import { monthDays, slotsOfDay } from "./days.js";
import { canWrite, chosenCalendar } from "./store.js";
import { sameClock, zoneNote } from "./words.js";
import * as Z from "./zones.js";

const PARTS = [
  ["Morning", 0, 12],
  ["Afternoon", 12, 17],
  ["Evening", 17, 24],
];

export class TimesView {
  constructor(root, store, actions) {
    this.store = store;
    this.actions = actions;
    this.title = h("h2", { id: "cp-times-title" });
    this.note = h("p", { class: "cp-zone-note" });
    this.list = h("div", { class: "cp-slot-list", role: "group", "aria-labelledby": "cp-times-title" });
    this.after = h("div", { class: "cp-after" }); // the hold and the booking form go here
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button.cp-slot");
      if (button && !button.disabled) actions.pick(this.byStart.get(button.dataset.start));
    });
    root.replaceChildren(this.title, this.note, this.list, this.after);
    this.byStart = new Map();
    store.subscribe((state) => this.render(state));
    this.render(store.get());
  }

  render(state) {
    const calendar = chosenCalendar(state);
    this.note.textContent = zoneNote(state);
    if (!state.day) {
      this.title.textContent = "Free times";
      this.list.replaceChildren(h("p", { class: "cp-empty" }, calendar ? "Choose a day with free times." : "No calendar is taking bookings yet."));
      return;
    }
    const day = Z.parseDayKey(state.day);
    this.title.textContent = `Free times on ${Z.longDayName(day)}`;
    const slots = slotsOfDay(state, state.day);
    this.byStart = new Map(slots.map((slot) => [slot.starts_at, slot]));
    if (!slots.length) {
      const info = monthDays({ ...state, month: Z.monthOf(day) }).find((d) => d.key === state.day);
      const reason = info?.reason === "checking" ? "Looking for free times…" : `No free times on this day: ${info?.reason || "fully booked"}.`;
      this.list.replaceChildren(h("p", { class: "cp-empty" }, reason));
      return;
    }
    const writable = canWrite(state) && !state.busy && !state.checking;
    const groups = PARTS.map(([name, from, to]) => {
      const inPart = slots.filter((slot) => {
        const hour = Z.wallOf(slot.start, state.zone).hour;
        return hour >= from && hour < to;
      });
      if (!inPart.length) return null;
      return h(
        "div",
        { class: "cp-part" },
        h("h3", { class: "cp-part-name" }, name),
        h("div", { class: "cp-slots" }, ...inPart.map((slot) => this.button(slot, state, calendar, writable))),
      );
    });
    const hadFocus = this.list.contains(document.activeElement) ? document.activeElement.dataset.start : null;
    this.list.replaceChildren(...groups.filter(Boolean));
    if (hadFocus) this.list.querySelector(`button[data-start="${hadFocus}"]`)?.focus();
  }

  button(slot, state, calendar, writable) {
    const time = Z.timeText(slot.start, state.zone);
    const chosen = state.choice?.starts_at === slot.starts_at && state.choice?.ends_at === slot.ends_at;
    const theirs = calendar && calendar.timezone !== state.zone && !sameClock(slot.start, state.zone, calendar.timezone);
    const other = theirs ? `${Z.timeText(slot.start, calendar.timezone)} ${Z.zoneCity(calendar.timezone)}` : null;
    return h(
      "button",
      {
        type: "button",
        class: "cp-slot",
        "aria-pressed": chosen ? "true" : "false",
        "aria-label": other ? `${time}, ${other} time` : time,
        disabled: !writable,
        dataset: { start: slot.starts_at },
      },
      h("span", { class: "cp-slot-time" }, time),
      other ? h("span", { class: "cp-slot-other" }, other) : null,
    );
  }
}
