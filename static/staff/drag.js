// Pointer gestures on the time grid: drag an appointment to move it, drag its
// lower edge to change its length, drag over free cells to select a range.
// A press without a drag stays a click (open the appointment, book the cell).

import { Ghost, clampTop } from "./ghost.js";
import { ROWS, SLOT_MINUTES, rowOf, snap } from "./layout.js";
import { ACTIVE } from "./store.js";

const THRESHOLD_PX = 5;
const GRIP_PX = 7; // the lower edge of a block that resizes it (its ::after in staff.css)

export class GridDrag {
  constructor(grid, keys, handlers) {
    this.grid = grid;
    this.keys = keys;
    this.handlers = handlers; // {move, selection, newAt, open, openHold}
    this.ghost = new Ghost(grid);
    this.gesture = null;
    this.suppressClick = false;
    this._move = (event) => this.onMove(event);
    this._up = (event) => this.onUp(event);
  }

  attach(el) {
    el.addEventListener("pointerdown", (event) => this.onDown(event));
    el.addEventListener("click", (event) => this.onClick(event));
  }

  onDown(event) {
    if (event.button !== 0 || event.pointerType === "touch" || this.keys.moving) return;
    const blockEl = event.target.closest(".appt");
    const cell = event.target.closest('[role="gridcell"]');
    if (!cell) return;
    const base = { x0: event.clientX, y0: event.clientY, active: false };
    if (blockEl) {
      const item = this.grid.store.get(blockEl.dataset.id);
      if (!item || item.kind === "block" || !ACTIVE.has(item.status)) return;
      const col = Number(blockEl.dataset.col);
      const s = Date.parse(item.starts_at);
      const e = Date.parse(item.ends_at);
      const column = this.grid.columns[col];
      const top = s <= column.start ? 0 : (s - column.start) / 60_000;
      const grab = event.clientY - blockEl.getBoundingClientRect().top;
      const edge = blockEl.classList.contains("resizable") && event.clientY > blockEl.getBoundingClientRect().bottom - GRIP_PX;
      const kind = edge ? "resize" : "move";
      this.gesture = { ...base, kind, item, block: blockEl, col, top, length: (e - s) / 60_000, grab };
    } else {
      this.gesture = { ...base, kind: "select", col: Number(cell.dataset.col), row: Number(cell.dataset.row) };
    }
    window.addEventListener("pointermove", this._move);
    window.addEventListener("pointerup", this._up);
    window.addEventListener("pointercancel", this._up);
  }

  /** The column and the minute of the day under a point of the viewport. */
  placeAt(x, y) {
    const first = this.grid.cells[0][0].getBoundingClientRect();
    let col = this.grid.columns.length - 1;
    for (let c = 0; c < this.grid.columns.length; c += 1) {
      if (x < this.grid.cells[c][0].getBoundingClientRect().right) {
        col = c;
        break;
      }
    }
    return { col, minute: Math.max(0, Math.min(ROWS * SLOT_MINUTES, y - first.top)) };
  }

  onMove(event) {
    const g = this.gesture;
    if (!g) return;
    if (!g.active) {
      if (Math.hypot(event.clientX - g.x0, event.clientY - g.y0) < THRESHOLD_PX) return;
      g.active = true;
      if (g.block) g.block.classList.add("dragging");
      this.grid.el.classList.add("dragging-on");
    }
    event.preventDefault();
    this.autoScroll(event.clientY);
    const place = this.placeAt(event.clientX, event.clientY);
    if (g.kind === "select") {
      const row = rowOf(place.minute);
      const col = g.col;
      this.grid.setSelection({ col, from: Math.min(g.row, row), to: Math.max(g.row, row) });
      return;
    }
    if (g.kind === "resize") {
      g.newLength = Math.max(SLOT_MINUTES, snap(place.minute - g.top));
      g.newTop = g.top;
      g.newCol = g.col;
    } else {
      const ours = this.grid.columns[place.col].calendars.some((c) => c.id === g.item.calendar_id);
      g.newCol = ours ? place.col : (g.newCol ?? g.col);
      g.newTop = clampTop(snap(place.minute - g.grab), g.length);
      g.newLength = g.length;
    }
    this.ghost.show(g.newCol, g.newTop, g.newLength);
  }

  async onUp() {
    window.removeEventListener("pointermove", this._move);
    window.removeEventListener("pointerup", this._up);
    window.removeEventListener("pointercancel", this._up);
    const g = this.gesture;
    this.gesture = null;
    if (!g?.active) return; // a plain click
    this.suppressClick = true;
    setTimeout(() => (this.suppressClick = false), 0);
    this.grid.el.classList.remove("dragging-on");
    if (g.kind === "select") {
      const range = this.grid.selectionRange();
      this.grid.focusCell(g.col, this.grid.selection.to);
      this.handlers.selection(range);
      return;
    }
    const { start, end } = this.ghost.instants(g.newCol ?? g.col, g.newTop ?? g.top, g.newLength ?? g.length);
    const unchanged = start === Date.parse(g.item.starts_at) && end === Date.parse(g.item.ends_at);
    try {
      if (!unchanged) await this.handlers.move(g.item, start, end);
    } finally {
      this.ghost.hide();
      g.block.classList.remove("dragging");
    }
  }

  onClick(event) {
    if (this.suppressClick) {
      event.stopPropagation();
      event.preventDefault();
      return;
    }
    if (this.keys.moving) return;
    const blockEl = event.target.closest(".appt");
    if (blockEl?.dataset.hold !== undefined) {
      const hold = this.grid.store.holds.get(blockEl.dataset.id);
      if (hold) this.handlers.openHold(hold);
      return;
    }
    if (blockEl) {
      const item = this.grid.store.get(blockEl.dataset.id);
      if (item) this.handlers.open(item);
      return;
    }
    const cell = event.target.closest('[role="gridcell"]');
    if (!cell) return;
    this.grid.setSelection(null);
    this.handlers.selection(null);
    this.grid.focusCell(Number(cell.dataset.col), Number(cell.dataset.row), { focus: false });
    this.handlers.newAt(this.grid.cellTarget(Number(cell.dataset.col), Number(cell.dataset.row)));
  }

  autoScroll(y) {
    const box = this.grid.scroller.getBoundingClientRect();
    if (y > box.bottom - 30) this.grid.scroller.scrollTop += 15;
    else if (y < box.top + 60) this.grid.scroller.scrollTop -= 15;
  }
}
