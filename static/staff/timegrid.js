// The day and week views: an ARIA grid of 15-minute cells (rows) by days or
// calendars (columns). Every cell is focusable and named with its date, time
// and calendar; appointments and live slot holds are buttons inside the cell
// where they start, laid out side by side where they overlap; cells under a
// hold say "being booked" and are aria-disabled. Redraws only the columns a
// change touches. Keys and pointer gestures live in gridkeys.js and drag.js.

import { h } from "../ui.js";
import * as Z from "../zoned.js";
import { drawBlock, highlight } from "./blocks.js";
import * as F from "./format.js";
import { drawHold, heldRows, markHeld } from "./holds.js";
import { ROWS, SLOT_MINUTES, across, entriesFor, rowOf } from "./layout.js";
import { openIntervals } from "./store.js";

const SLOT_MS = SLOT_MINUTES * 60_000;

export class TimeGrid {
  constructor(store, scroller) {
    this.store = store;
    this.scroller = scroller; // the element that scrolls the grid
    this.el = null;
    this.columns = [];
    this.cells = []; // cells[col][row]
    this.blocks = new Map(); // "id@col" -> button
    this.held = []; // per column, the Set of rows under a live hold
    this.focus = { col: 0, row: 36 };
    this.selection = null; // {col, from, to} rows, inclusive
  }

  get tz() {
    return this.store.view.tz;
  }

  /** Build the whole grid for the store's period. */
  render() {
    const { period } = this.store;
    this.columns = this.columnsOf(period);
    this.blocks.clear();
    this.held = this.columns.map(() => new Set());
    this.selection = null;
    const head = h(
      "div",
      { role: "row", class: "tg-head" },
      h("div", { role: "columnheader", class: "tg-corner" }, h("span", { class: "sr-only" }, "Time"), h("span", { "aria-hidden": "true" }, Z.zoneAbbreviation(period.from, this.tz))),
      this.columns.map((column) => this.header(column)),
    );
    this.el = h("div", {
      role: "grid",
      class: `tgrid view-${period.mode}`,
      "aria-label": period.name,
      "aria-rowcount": String(ROWS + 1),
      "aria-colcount": String(this.columns.length + 1),
      style: { "--cols": String(this.columns.length) },
    });
    // Nearly a thousand cells: one parse of their markup is several times faster than building each.
    this.el.innerHTML = this.rowsMarkup();
    this.el.prepend(head);
    this.cells = this.columns.map(() => new Array(ROWS));
    for (const cell of this.el.querySelectorAll(".tg-cell")) this.cells[Number(cell.dataset.col)][Number(cell.dataset.row)] = cell;
    for (let col = 0; col < this.columns.length; col += 1) this.placeColumn(col);
    this.renderNow();
    const focus = this.clampFocus(this.focus);
    this.focus = focus;
    this.cells[focus.col]?.[focus.row]?.setAttribute("tabindex", "0");
    return this.el;
  }

  /** The rows of the grid as markup; each cell named by content (an appointment starting there adds its name). */
  rowsMarkup() {
    const open = this.columns.map((column) => this.openRows(column));
    const parts = [];
    for (let row = 0; row < ROWS; row += 1) {
      const minute = row * SLOT_MINUTES;
      const label = F.clock(minute);
      parts.push(`<div role="row" class="tg-row"><div role="rowheader" class="tg-time"><span class="${minute % 60 ? "sr-only" : "tg-hour"}">${label}</span></div>`);
      this.columns.forEach((column, col) => {
        const calendar = column.calendars[Math.max(0, open[col][row])];
        const closed = open[col][row] < 0;
        const name = `${column.dayLabel}, ${label}${calendar ? `, ${calendar.name}` : ""}${closed ? ", outside working hours" : ""}`;
        const classes = `tg-cell${closed ? " closed" : ""}${minute % 60 === 0 ? " hour" : ""}`;
        const data = `data-col="${col}" data-row="${row}"${calendar ? ` data-calendar="${escape(calendar.id)}"` : ""}`;
        parts.push(`<div role="gridcell" tabindex="-1" class="${classes}" ${data}><span class="sr-only">${escape(name)}</span></div>`);
      });
      parts.push("</div>");
    }
    return parts.join("");
  }

  columnsOf(period) {
    const shown = this.store.shownCalendars();
    const today = Z.today(this.tz);
    if (period.mode === "day") {
      const lanes = shown.length ? shown : [null];
      return lanes.map((calendar, index) => ({
        index,
        day: period.anchor,
        start: period.from,
        end: period.to,
        calendars: calendar ? [calendar] : [],
        dayLabel: F.day(period.anchor),
        today: Z.sameDay(period.anchor, today),
      }));
    }
    return period.days.map((day, index) => ({
      index,
      day,
      start: +Z.zonedTime(day, 0, 0, this.tz),
      end: +Z.zonedTime(Z.addDays(day, 1), 0, 0, this.tz),
      calendars: shown,
      dayLabel: F.day(day),
      today: Z.sameDay(day, today),
    }));
  }

  header(column) {
    if (this.store.period.mode === "day") {
      const calendar = column.calendars[0];
      if (!calendar) return h("div", { role: "columnheader", class: "tg-colhead" }, "No calendar shown");
      const zone = calendar.timezone === this.tz ? "" : F.city(calendar.timezone);
      return h(
        "div",
        { role: "columnheader", class: `tg-colhead cal-${this.store.colors.get(calendar.id)}` },
        h("span", { class: "chip", "aria-hidden": "true" }),
        h("span", { class: "tg-colname" }, calendar.name),
        zone ? h("small", {}, ` · ${zone}`) : null,
      );
    }
    return h(
      "div",
      { role: "columnheader", class: `tg-colhead${column.today ? " today" : ""}` },
      h("span", { class: "tg-wd" }, F.weekdayShort(Z.weekday(column.day))),
      h("span", { class: "tg-dn" }, F.dayNumber(column.day)),
      column.today ? h("span", { class: "sr-only" }, ", today") : null,
    );
  }

  /** Per row, the index of the first of the column's calendars open all through it, or -1. */
  openRows(column) {
    const rows = new Array(ROWS).fill(-1);
    column.calendars.forEach((calendar, index) => {
      for (const [a, b] of openIntervals(calendar, column.start, column.end)) {
        for (let row = 0; row < ROWS; row += 1) {
          const start = this.rowStart(column, row);
          if (rows[row] < 0 && start >= a && start + SLOT_MS <= b) rows[row] = index;
        }
      }
    });
    return rows;
  }

  /** The instant a row of a column starts. */
  rowStart(column, row) {
    if (column.end - column.start === 86_400_000) return column.start + row * SLOT_MS;
    return +Z.zonedTime(column.day, 0, row * SLOT_MINUTES, this.tz);
  }

  /** Where a new appointment at a cell would go: {calendarId, start}. */
  cellTarget(col, row) {
    const column = this.columns[col];
    const cell = this.cells[col]?.[row];
    if (!column || !cell) return null;
    return { calendarId: cell.dataset.calendar || null, start: this.rowStart(column, row), column };
  }

  // Blocks

  /** Lay out and draw the items of one column; `live` ids glow. */
  placeColumn(col, live = null) {
    const column = this.columns[col];
    const ids = column.calendars.map((c) => c.id);
    const found = ids.length ? this.store.between(column.start, column.end, ids) : [];
    if (ids.length && this.store.holds.size) found.push(...this.store.holdsBetween(column.start, column.end, ids));
    const entries = entriesFor(found, column, this.tz);
    const seen = new Set();
    for (const entry of entries) {
      const key = `${entry.item.id}@${col}`;
      seen.add(key);
      let block = this.blocks.get(key);
      if (!block) {
        block = document.createElement("button");
        block.type = "button";
        block.tabIndex = -1;
        this.blocks.set(key, block);
      }
      (entry.item.kind === "hold" ? drawHold : drawBlock)(block, entry, col, this.columns.length, this.store, this.tz);
      const cell = this.cells[col][rowOf(entry.top)];
      if (block.parentElement !== cell) cell.append(block);
      if (live?.has(entry.item.id)) highlight(block);
    }
    for (const [key, block] of this.blocks) {
      if (key.endsWith(`@${col}`) && !seen.has(key)) {
        block.remove();
        this.blocks.delete(key);
      }
    }
    this.held[col] = markHeld(this.cells[col], this.held[col], heldRows(entries));
  }

  /** Redraw the columns a set of store changes touches. */
  update(changes) {
    const touched = new Set();
    const live = new Set();
    for (const { before, after, origin } of changes) {
      for (const item of [before, after]) {
        if (!item) continue;
        const s = Date.parse(item.starts_at);
        const e = Date.parse(item.ends_at);
        this.columns.forEach((column, col) => {
          if (s < column.end && e > column.start && column.calendars.some((c) => c.id === item.calendar_id)) touched.add(col);
        });
      }
      if ((origin === "live" || origin === "hold") && after) live.add(after.id);
    }
    for (const col of touched) this.placeColumn(col, live);
  }

  /** Redraw the columns that holds came to or left (a new one glows). */
  updateHolds(changes) {
    this.update(changes.map(({ before, after }) => ({ before, after, origin: before ? "snapshot" : "hold" })));
  }

  /** Every block's words again (names of people arrived, zone changed). */
  relabel() {
    for (let col = 0; col < this.columns.length; col += 1) this.placeColumn(col);
  }

  blocksOf(id) {
    return [...this.blocks.entries()].filter(([key]) => key.startsWith(`${id}@`)).map(([, block]) => block);
  }

  // Now line, focus and selection

  renderNow() {
    this.el?.querySelector(".now-line")?.remove();
    const now = Date.now();
    this.columns.forEach((column, col) => {
      if (now < column.start || now >= column.end) return;
      const minute = Z.wallMinutes(now, this.tz);
      const cell = this.cells[col][rowOf(minute)];
      const place = across(col, this.columns.length, 0, 1, 1, [0, 0]);
      cell.append(h("div", { class: "now-line", "aria-hidden": "true", style: { top: `${minute % SLOT_MINUTES}px`, ...place } }));
    });
  }

  clampFocus({ col, row }) {
    return { col: Math.max(0, Math.min(this.columns.length - 1, col)), row: Math.max(0, Math.min(ROWS - 1, row)) };
  }

  /** Move the roving tab stop to a cell (and focus it unless told not to). */
  focusCell(col, row, { focus = true } = {}) {
    const next = this.clampFocus({ col, row });
    this.el.querySelectorAll('[tabindex="0"]').forEach((el) => el.setAttribute("tabindex", "-1"));
    this.focus = next;
    const cell = this.cells[next.col][next.row];
    cell.setAttribute("tabindex", "0");
    if (focus) cell.focus({ preventScroll: false });
    return cell;
  }

  /** Focus an appointment's block (its first piece), making it the tab stop. */
  focusBlock(id) {
    const block = this.blocksOf(id)[0];
    if (!block) return null;
    this.el.querySelectorAll('[tabindex="0"]').forEach((el) => el.setAttribute("tabindex", "-1"));
    block.setAttribute("tabindex", "0");
    block.focus();
    return block;
  }

  setSelection(selection) {
    for (const cell of this.el.querySelectorAll('[aria-selected="true"]')) cell.removeAttribute("aria-selected");
    this.selection = selection;
    if (!selection) return;
    for (let row = selection.from; row <= selection.to; row += 1) this.cells[selection.col][row].setAttribute("aria-selected", "true");
  }

  /** The selection as instants and a calendar: {calendarId, start, end}. */
  selectionRange() {
    const s = this.selection;
    if (!s) return null;
    const column = this.columns[s.col];
    return {
      calendarId: this.cells[s.col][s.from].dataset.calendar || null,
      start: this.rowStart(column, s.from),
      end: s.to + 1 >= ROWS ? column.end : this.rowStart(column, s.to + 1),
    };
  }

  /** Scroll to a little before now when it is shown, else to the first working hour. */
  scrollToWork() {
    const now = Date.now();
    let minute = null;
    if (this.columns.some((c) => now >= c.start && now < c.end)) minute = Z.wallMinutes(now, this.tz) - 90;
    else {
      // The first working hour; for calendars open round the clock, the first appointment or 08:00.
      const first = this.el.querySelector(".tg-cell:not(.closed)");
      const rows = [...this.blocks.values()].map((block) => Number(block.parentElement?.dataset.row ?? ROWS));
      const opening = first ? Number(first.dataset.row) * SLOT_MINUTES : 8 * 60;
      minute = (opening > 0 ? opening : Math.min(8 * 60, ...rows.map((row) => row * SLOT_MINUTES))) - 30;
    }
    this.scroller.scrollTop = Math.max(0, minute);
  }
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe for markup (calendar names are typed by people). */
function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
