// The keyboard of the time grid (WAI-ARIA APG data grid): arrows move between
// cells and the appointments that start in them, Shift+arrows select a range,
// Enter books or opens, M picks an appointment up to move it with the arrows.

import * as Z from "../zoned.js";
import { describe } from "./describe.js";
import { Ghost, clampTop } from "./ghost.js";
import { ROWS, SLOT_MINUTES } from "./layout.js";
import { ACTIVE } from "./store.js";

const MOVE_KEYS = new Set(["Escape", "Enter", " ", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"]);

export class GridKeys {
  constructor(grid, handlers) {
    this.grid = grid;
    this.handlers = handlers; // {newAt, open, move, blockTime, announce, selection}
    this.moving = null; // {item, col, top, length, origin}
    this.ghost = new Ghost(grid);
    this.anchorRow = null;
  }

  onKeyDown(event) {
    if (this.moving) return this.moveKey(event);
    const block = event.target.closest?.(".appt");
    const cell = event.target.closest?.('[role="gridcell"]');
    if (!cell) return;
    const col = Number(cell.dataset.col);
    const row = Number(cell.dataset.row);
    const key = event.key;
    const arrows = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0], PageUp: [0, -4], PageDown: [0, 4] };
    if (arrows[key]) {
      event.preventDefault();
      const [dc, dr] = arrows[key];
      if (event.shiftKey && dr) return this.extend(col, row, dr);
      this.clearSelection();
      if (dc) return this.sideways(cell, block, dc);
      return this.grid.focusCell(col, row + dr);
    }
    if (key === "Home" || key === "End") {
      // APG grid: the first or last cell of the row; with Ctrl, of the grid.
      event.preventDefault();
      this.clearSelection();
      const last = key === "End";
      return this.grid.focusCell(last ? this.grid.columns.length - 1 : 0, event.ctrlKey ? (last ? ROWS - 1 : 0) : row);
    }
    if (block) return this.blockKey(event, block);
    if (key === "Enter" || key === " ") {
      event.preventDefault();
      const range = this.grid.selectionRange();
      if (range && this.grid.selection.to > this.grid.selection.from) return this.handlers.newAt(range);
      return this.handlers.newAt(this.grid.cellTarget(col, row));
    }
    if ((key === "b" || key === "B") && this.grid.selection) {
      event.preventDefault();
      return this.handlers.blockTime(this.grid.selectionRange());
    }
    if (key === "Escape" && this.grid.selection) {
      event.preventDefault();
      this.clearSelection();
    }
  }

  /** Left/right: through the appointments starting in this cell, then to the next column. */
  sideways(cell, block, dc) {
    const col = Number(cell.dataset.col);
    const row = Number(cell.dataset.row);
    const blocks = [...cell.querySelectorAll(":scope > .appt")];
    const at = block ? blocks.indexOf(block) : -1;
    const next = at + dc;
    if (dc > 0 && next < blocks.length) return this.focusBlock(blocks[next]);
    if (dc < 0 && at >= 0) return next >= 0 ? this.focusBlock(blocks[next]) : this.grid.focusCell(col, row);
    const target = this.grid.focusCell(col + dc, row, { focus: false });
    const arriving = dc < 0 ? [...target.querySelectorAll(":scope > .appt")].pop() : null;
    return arriving ? this.focusBlock(arriving) : target.focus();
  }

  focusBlock(block) {
    this.grid.el.querySelectorAll('[tabindex="0"]').forEach((el) => el.setAttribute("tabindex", "-1"));
    block.setAttribute("tabindex", "0");
    block.focus();
  }

  extend(col, row, dr) {
    const s = this.grid.selection;
    const fresh = !s || s.col !== col || (row !== s.from && row !== s.to) || this.anchorRow === null;
    if (fresh) this.anchorRow = row; // a new range starts at the focused cell
    const next = Math.max(0, Math.min(ROWS - 1, row + dr));
    this.grid.setSelection({ col, from: Math.min(this.anchorRow, next), to: Math.max(this.anchorRow, next) });
    this.grid.focusCell(col, next);
    this.handlers.selection(this.grid.selectionRange());
  }

  clearSelection() {
    if (!this.grid.selection) return;
    this.grid.setSelection(null);
    this.handlers.selection(null);
  }

  blockKey(event, block) {
    if (event.key !== "m" && event.key !== "M") return;
    if (block.dataset.hold !== undefined) {
      event.preventDefault();
      this.handlers.announce("Someone is booking this time right now; a hold cannot be moved.");
      return;
    }
    const item = this.grid.store.get(block.dataset.id);
    if (!item) return;
    event.preventDefault();
    if (item.kind === "block" || !ACTIVE.has(item.status)) {
      this.handlers.announce("Only pending or confirmed appointments can be moved.");
      return;
    }
    this.startMove(item, Number(block.dataset.col));
  }

  // Keyboard move

  startMove(item, col) {
    const s = Date.parse(item.starts_at);
    const e = Date.parse(item.ends_at);
    const column = this.grid.columns[col];
    const top = s <= column.start ? 0 : Z.wallMinutes(s, this.grid.tz);
    this.moving = { item, col, top, length: (e - s) / 60_000 };
    this.grid.el.classList.add("moving");
    this.paint(true);
  }

  moveKey(event) {
    const m = this.moving;
    const key = event.key;
    if (key === "Tab") return this.stopMove("Move cancelled.");
    if (!MOVE_KEYS.has(key)) return;
    event.preventDefault();
    if (key === "Escape") return this.stopMove("Move cancelled; the appointment stays where it was.");
    if (key === "Enter" || key === " ") {
      const { start, end } = this.ghost.instants(m.col, m.top, m.length);
      const item = m.item;
      this.stopMove("");
      if (start !== Date.parse(item.starts_at) || end !== Date.parse(item.ends_at)) this.handlers.move(item, start, end);
      return;
    }
    if (key === "ArrowUp" || key === "ArrowDown") {
      const step = key === "ArrowUp" ? -SLOT_MINUTES : SLOT_MINUTES;
      if (event.shiftKey) m.length = Math.max(SLOT_MINUTES, m.length + step);
      else m.top = clampTop(snapTo(m.top + step, step), m.length);
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      const col = m.col + (key === "ArrowLeft" ? -1 : 1);
      const column = this.grid.columns[col];
      if (!column) return;
      if (!column.calendars.some((c) => c.id === m.item.calendar_id)) {
        this.handlers.announce("An appointment stays on its own calendar; move it in time only.");
        return;
      }
      m.col = col;
    }
    this.paint(false);
  }

  paint(first) {
    const m = this.moving;
    this.ghost.show(m.col, m.top, m.length);
    const { start, end } = this.ghost.instants(m.col, m.top, m.length);
    const preview = { ...m.item, starts_at: new Date(start).toISOString(), ends_at: new Date(end).toISOString() };
    const place = describe(preview, this.grid.store).time;
    const day = this.grid.columns[m.col].dayLabel;
    const help = first ? " Arrow keys move it, Shift with up or down changes its length, Enter drops it, Escape puts it back." : "";
    this.handlers.announce(`Moving ${m.item.title}: ${day}, ${place}.${help}`);
  }

  stopMove(message) {
    const item = this.moving?.item;
    this.moving = null;
    this.ghost.hide();
    this.grid.el?.classList.remove("moving");
    if (message) this.handlers.announce(message);
    if (item) this.grid.focusBlock(item.id);
  }
}

/** Snap to the grid in the direction of travel, so an off-grid start lands on a line. */
function snapTo(minutes, step) {
  const rest = ((minutes % SLOT_MINUTES) + SLOT_MINUTES) % SLOT_MINUTES;
  if (!rest) return minutes;
  return step > 0 ? minutes - rest : minutes - rest + SLOT_MINUTES;
}
