// The outline of where an appointment would go, while it is dragged or moved
// with the keyboard; and the instants such a place stands for.

import { h } from "../ui.js";
import * as Z from "../zoned.js";
import * as F from "./format.js";
import { ROWS, SLOT_MINUTES, across, rowOf } from "./layout.js";

export class Ghost {
  constructor(grid) {
    this.grid = grid;
    this.el = h("div", { class: "ghost", "aria-hidden": "true" }, h("span", { class: "ghost-time" }));
  }

  /** Draw at a column, a top (minutes of the day) and a length in minutes. */
  show(col, top, length) {
    const cell = this.grid.cells[col]?.[rowOf(top)];
    if (!cell) return;
    this.el.style.top = `${top - rowOf(top) * SLOT_MINUTES}px`;
    Object.assign(this.el.style, across(col, this.grid.columns.length, 0, 1, 1, [2, 4]));
    this.el.style.height = `${Math.max(10, length - 1)}px`;
    const { start, end } = this.instants(col, top, length);
    this.el.firstChild.textContent = F.timeRange(start, end, this.grid.tz);
    if (this.el.parentElement !== cell) cell.append(this.el);
  }

  hide() {
    this.el.remove();
  }

  /** {start, end} epoch ms of a place in the grid; the length is elapsed time. */
  instants(col, top, length) {
    const column = this.grid.columns[col];
    const start = column.end - column.start === 86_400_000 ? column.start + top * 60_000 : +Z.zonedTime(column.day, 0, top, this.grid.tz);
    return { start, end: start + length * 60_000 };
  }
}

/** Keep a place inside the day: top within [0, 24 h - length]. */
export function clampTop(top, length) {
  return Math.max(0, Math.min(ROWS * SLOT_MINUTES - Math.min(length, SLOT_MINUTES), top));
}
