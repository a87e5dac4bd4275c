// Pure geometry of the time grid: which items of a column sit side by side,
// and where a wall-clock minute falls. No DOM here.

import * as Z from "../zoned.js";
import { ACTIVE } from "./store.js";

export const SLOT_MINUTES = 15;
export const ROWS = (24 * 60) / SLOT_MINUTES;
export const PX_PER_MINUTE = 1; // one row is SLOT_MINUTES px tall

/**
 * Side-by-side places for the items of one column: sets `col`, `cols` and
 * `span` on each. Items that overlap share the width; an item takes the free
 * columns to its right. Cancelled items take no width: they lie behind the
 * others at full width (`behind`), so they never squeeze a live appointment.
 */
export function place(entries) {
  const front = [];
  for (const entry of entries) {
    entry.behind = entry.item.status === "cancelled";
    if (entry.behind) Object.assign(entry, { col: 0, cols: 1, span: 1 });
    else front.push(entry);
  }
  let group = [];
  let groupEnd = -Infinity;
  for (const entry of front) {
    if (group.length && entry.top >= groupEnd) {
      settle(group);
      group = [];
    }
    group.push(entry);
    groupEnd = Math.max(groupEnd, entry.bottom);
  }
  if (group.length) settle(group);
  return entries;
}

function settle(group) {
  const columns = []; // each: the entries in it, in start order
  for (const entry of group) {
    let col = columns.findIndex((list) => list[list.length - 1].bottom <= entry.top);
    if (col < 0) {
      col = columns.length;
      columns.push([]);
    }
    columns[col].push(entry);
    entry.col = col;
  }
  for (const entry of group) {
    entry.cols = columns.length;
    let span = 1;
    for (let c = entry.col + 1; c < columns.length; c += 1) {
      if (columns[c].some((other) => other.top < entry.bottom && other.bottom > entry.top)) break;
      span += 1;
    }
    entry.span = span;
  }
}

/**
 * Top and bottom (minutes from the column's wall-clock midnight) of items in
 * one column [start, end) of a day in a zone. On days without a clock change
 * the arithmetic is plain; on the others each instant's wall clock is read.
 */
export function entriesFor(found, column, tz) {
  const plain = column.end - column.start === 86_400_000;
  const minuteOf = (ms) => {
    if (ms <= column.start) return 0;
    if (ms >= column.end) return 24 * 60;
    return plain ? (ms - column.start) / 60_000 : Z.wallMinutes(ms, tz);
  };
  const entries = [];
  for (const { item, s, e } of found) {
    if (s >= column.end || e <= column.start) continue;
    const top = minuteOf(s);
    const bottom = Math.max(minuteOf(e), top + 10);
    entries.push({ item, s, e, top, bottom, startsHere: s >= column.start, endsHere: e <= column.end });
  }
  entries.sort((a, b) => a.top - b.top || ACTIVE.has(b.item.status) - ACTIVE.has(a.item.status) || b.bottom - a.bottom);
  return place(entries);
}

/** The row (0 … ROWS-1) of a minute of the day. */
export function rowOf(minute) {
  return Math.max(0, Math.min(ROWS - 1, Math.floor(minute / SLOT_MINUTES)));
}

/** Snap minutes to the grid's step. */
export function snap(minutes, step = SLOT_MINUTES) {
  return Math.round(minutes / step) * step;
}

/**
 * left and width (CSS) of something in column `col` of `columns`, at sub-column
 * `sub` of `subs` spanning `span` of them. Blocks are placed against their row
 * (cells are not positioned: a positioned element per cell costs the browser a
 * paint layer each, which every hit test and style pass walks).
 */
export function across(col, columns, sub = 0, subs = 1, span = 1, inset = [1, 3]) {
  const width = "(100% - var(--time-w))";
  return {
    left: `calc(var(--time-w) + ${width} * ${(col + sub / subs) / columns} + ${inset[0]}px)`,
    width: `calc(${width} * ${span / subs / columns} - ${inset[1]}px)`,
  };
}
