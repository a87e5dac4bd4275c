// One appointment or block of the time grid as a button: where it sits in
// its cell, its colours, and its words.
//
// Its name is describe()'s label; its lines show that label's first parts in
// the same order, one text per line, so whatever a short block cuts off at
// the bottom, what it shows is the start of its name (WCAG 2.5.3).

import { describe } from "./describe.js";
import * as F from "./format.js";
import { SLOT_MINUTES, across, rowOf } from "./layout.js";
import { ACTIVE } from "./store.js";

/** Place and word a block for a laid-out entry ({item, top, bottom, col, cols, span, behind, endsHere}). */
export function drawBlock(block, entry, col, columns, store, tz) {
  const { item } = entry;
  const d = describe(item, store, tz);
  const height = entry.bottom - entry.top;
  const size = sizeOf(height);
  const color = store.colors.get(item.calendar_id) ?? 0;
  const flashing = block.classList.contains("glowing") ? " glowing" : "";
  const kind = d.block ? " is-block" : "";
  const resizable = !d.block && ACTIVE.has(item.status) && entry.endsHere ? " resizable" : "";
  // Write only what changed: a live event re-lays a whole column, and every write costs style work.
  const series = item.series_id ? " in-series" : "";
  const className = `appt cal-${color} status-${item.status}${kind}${series}${entry.behind ? " behind" : ""}${size}${resizable}${flashing}`;
  if (block.className !== className) block.className = className;
  if (block._item !== item || block.dataset.col !== String(col)) {
    block._item = item;
    Object.assign(block.dataset, {
      id: item.id,
      col: String(col),
      status: item.status,
      startsAt: item.starts_at,
      endsAt: item.ends_at,
      version: String(item.version),
    });
  }
  placeBlock(block, entry, col, columns);
  const fit = linesThatFit(height);
  const signature = `${d.label}|${fit}|${height < 25}|${height < 60}`;
  if (block._signature === signature) return;
  block._signature = signature;
  block.title = d.label;
  block.setAttribute("aria-label", d.label);
  const who = d.who ? ` · ${d.who}` : "";
  let lines;
  if (height < 25) lines = [`${d.title}${who} ${F.time(d.s, tz)}`];
  else {
    // Under an hour, title and client share the first line: a half-hour block shows both.
    lines = height < 60 ? [`${d.title}${who}`] : [d.title, d.who];
    lines.push(d.time, d.zone, d.shownStatus === "confirmed" ? "" : d.shownStatus);
  }
  // One text node with only the lines that fit: few elements and little text for
  // the browser to lay out, a thousand times over.
  block.textContent = lines.filter(Boolean).slice(0, fit).join("\n");
}

const LINE_PX = 14;

/** How many lines of text a block of this height shows. */
export function linesThatFit(height) {
  return Math.max(1, Math.floor((height - 2) / LINE_PX));
}

/** Where a block sits in its row, written only when it moved. */
export function placeBlock(block, entry, col, columns) {
  const height = entry.bottom - entry.top;
  const geometry = `${entry.top}|${height}|${col}/${columns}|${entry.col}|${entry.cols}|${entry.span}`;
  if (block._geometry === geometry) return;
  block._geometry = geometry;
  block.style.top = `${entry.top - rowOf(entry.top) * SLOT_MINUTES}px`;
  block.style.height = `${Math.max(10, height - 1)}px`;
  const { left, width } = across(col, columns, entry.col, entry.cols, entry.span);
  block.style.left = left;
  block.style.width = width;
}

/** The size class of a block: short blocks get tighter lines. */
export function sizeOf(height) {
  return height < 25 ? " tiny" : height < 44 ? " short" : height < 60 ? " medium" : "";
}

const GLOW = [
  { boxShadow: "0 0 0 4px rgba(250, 204, 21, 0.95)" },
  { boxShadow: "0 0 0 4px rgba(250, 204, 21, 0.6)", offset: 0.6 },
  { boxShadow: "0 0 0 0 rgba(250, 204, 21, 0)" },
];
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

/**
 * Highlight something someone else just changed. The Web Animations API
 * restarts the glow without forcing a layout (re-adding a CSS animation class
 * needs one, which costs a full-grid layout per live event); the class
 * "glowing" marks it while it glows.
 */
export function highlight(element) {
  element._glow?.cancel();
  element._glow = element.animate(GLOW, { duration: reducedMotion.matches ? 1 : 1600, easing: "ease-out" });
  element.classList.add("glowing");
  clearTimeout(element._glowTimer);
  element._glowTimer = setTimeout(() => element.classList.remove("glowing"), 1600);
}
