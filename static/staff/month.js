// The month view: an ARIA grid of days (rows are weeks). Each day lists its
// first appointments and how many more; Enter on a day opens it in the day view.

import { fill, h } from "../ui.js";
import * as Z from "../zoned.js";
import { highlight } from "./blocks.js";
import { RECURRING, describe } from "./describe.js";
import * as F from "./format.js";

const SHOWN_PER_DAY = 3;

export class MonthView {
  constructor(store, handlers) {
    this.store = store;
    this.handlers = handlers; // {openDay, open}
    this.el = null;
    this.cells = [];
    this.focusIndex = 0;
  }

  render() {
    const { period, view } = this.store;
    const today = Z.today(view.tz);
    const first = period.days.slice(0, 7);
    const head = h(
      "div",
      { role: "row", class: "mg-head" },
      first.map((day) => h("div", { role: "columnheader", class: "mg-wd" }, F.weekdayShort(Z.weekday(day)))),
    );
    this.cells = period.days.map((day, index) => {
      const outside = day.m !== period.anchor.m;
      const cell = h("div", {
        role: "gridcell",
        tabindex: "-1",
        class: `mg-day${outside ? " outside" : ""}${Z.sameDay(day, today) ? " today" : ""}`,
        dataset: { index: String(index), day: Z.dayKey(day) },
      });
      cell.day = day;
      return cell;
    });
    const weeks = [];
    for (let i = 0; i < this.cells.length; i += 7) weeks.push(h("div", { role: "row", class: "mg-week" }, this.cells.slice(i, i + 7)));
    this.el = h("div", { role: "grid", class: "mgrid", "aria-label": period.name, style: { "--weeks": String(weeks.length) } }, head, weeks);
    for (const cell of this.cells) this.fill(cell);
    const start = today.m === period.anchor.m && today.y === period.anchor.y ? today : { ...period.anchor, d: 1 };
    this.focusIndex = Math.max(0, this.cells.findIndex((c) => Z.sameDay(c.day, start)));
    this.cells[this.focusIndex].setAttribute("tabindex", "0");
    this.el.addEventListener("keydown", (event) => this.onKey(event));
    this.el.addEventListener("click", (event) => this.onClick(event));
    return this.el;
  }

  /** Draw one day's items; `live` ids glow. */
  fill(cell, live = null) {
    const { tz } = this.store.view;
    const from = +Z.zonedTime(cell.day, 0, 0, tz);
    const to = +Z.zonedTime(Z.addDays(cell.day, 1), 0, 0, tz);
    const found = this.store.between(from, to);
    const active = found.filter((f) => f.item.status !== "cancelled");
    const count = active.length;
    // Named by content (a hidden first line, then its appointments), like the time grid's cells.
    const name = `${F.day(cell.day)}, ${count === 0 ? "nothing booked" : count === 1 ? "1 appointment" : `${count} appointments`}`;
    const shown = found.slice(0, SHOWN_PER_DAY);
    const more = found.length - shown.length;
    fill(
      cell,
      h("span", { class: "sr-only" }, name),
      h("span", { class: "mg-num", "aria-hidden": "true" }, F.dayNumber(cell.day)),
      shown.map(({ item }) => {
        const d = describe(item, this.store, tz);
        const button = h(
          "button",
          {
            type: "button",
            tabindex: "-1",
            class: `mg-item cal-${this.store.colors.get(item.calendar_id) ?? 0} status-${item.status}${d.block ? " is-block" : ""}${d.series ? " in-series" : ""}`,
            title: d.label,
            // What shows ("09:30 Vaccination") starts the name (WCAG 2.5.3).
            "aria-label": [`${F.time(d.s, tz)} ${d.title}`, d.who, d.shownStatus, d.series ? RECURRING : "", d.calendar?.name, `until ${F.time(d.e, tz)}`].filter(Boolean).join(", "),
            dataset: { id: item.id, status: item.status },
          },
          h("span", { class: "mg-dot", "aria-hidden": "true" }),
          h("span", { class: "mg-time" }, F.time(d.s, tz)),
          " ",
          h("span", { class: "mg-title" }, d.title),
        );
        if (live?.has(item.id)) highlight(button);
        return button;
      }),
      more > 0 ? h("button", { type: "button", tabindex: "-1", class: "mg-more", dataset: { more: "" } }, `${more} more`) : null,
    );
  }

  update(changes) {
    const touched = new Set();
    const live = new Set();
    for (const { before, after, origin } of changes) {
      for (const item of [before, after]) {
        if (!item) continue;
        const s = Date.parse(item.starts_at);
        const e = Date.parse(item.ends_at);
        for (const cell of this.cells) {
          const from = +Z.zonedTime(cell.day, 0, 0, this.store.view.tz);
          if (s < from + 86_400_000 && e > from) touched.add(cell);
        }
      }
      if (origin === "live" && after) live.add(after.id);
    }
    for (const cell of touched) this.fill(cell, live);
  }

  relabel() {
    for (const cell of this.cells) this.fill(cell);
  }

  focus(index) {
    const next = Math.max(0, Math.min(this.cells.length - 1, index));
    this.cells[this.focusIndex].setAttribute("tabindex", "-1");
    this.focusIndex = next;
    this.cells[next].setAttribute("tabindex", "0");
    this.cells[next].focus();
  }

  onKey(event) {
    const cell = event.target.closest('[role="gridcell"]');
    if (!cell) return;
    const index = Number(cell.dataset.index);
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    if (moves[event.key] !== undefined) {
      event.preventDefault();
      this.focus(index + moves[event.key]);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      this.focus(index - (index % 7) + (event.key === "End" ? 6 : 0));
    } else if ((event.key === "Enter" || event.key === " ") && event.target === cell) {
      event.preventDefault();
      this.handlers.openDay(cell.day);
    }
  }

  onClick(event) {
    const cell = event.target.closest('[role="gridcell"]');
    if (!cell) return;
    const item = event.target.closest(".mg-item");
    if (item) {
      const found = this.store.get(item.dataset.id);
      if (found) this.handlers.open(found);
      return;
    }
    this.handlers.openDay(cell.day);
  }
}
