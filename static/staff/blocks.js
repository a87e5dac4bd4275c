// One appointment or block of the time grid as a button: where it sits in
// its cell, its colours, and its words.
//
// Its name is describe()'s label; its lines show that label's first parts in
// the same order, one text per line, so whatever a short block cuts off at
// the bottom, what it shows is the start of its name (WCAG 2.5.3).

import { fill, h } from "../ui.js";
import { describe } from "./describe.js";
import * as F from "./format.js";
import { SLOT_MINUTES, rowOf } from "./layout.js";
import { ACTIVE } from "./store.js";

/** Place and word a block for a laid-out entry ({item, top, bottom, col, cols, span, behind, endsHere}). */
export function drawBlock(block, entry, col, store, tz) {
  const { item } = entry;
  const d = describe(item, store, tz);
  const height = entry.bottom - entry.top;
  const size = height < 25 ? " tiny" : height < 44 ? " short" : height < 60 ? " medium" : "";
  const color = store.colors.get(item.calendar_id) ?? 0;
  const flashing = block.classList.contains("flash") ? " flash" : "";
  const kind = d.block ? " is-block" : "";
  block.className = `appt cal-${color} status-${item.status}${kind}${entry.behind ? " behind" : ""}${size}${flashing}`;
  Object.assign(block.dataset, {
    id: item.id,
    col: String(col),
    status: item.status,
    calendar: item.calendar_id,
    startsAt: item.starts_at,
    endsAt: item.ends_at,
    version: String(item.version),
  });
  block.style.top = `${entry.top - rowOf(entry.top) * SLOT_MINUTES}px`;
  block.style.height = `${Math.max(10, height - 1)}px`;
  block.style.left = `calc(${(entry.col / entry.cols) * 100}% + 1px)`;
  block.style.width = `calc(${(entry.span / entry.cols) * 100}% - 3px)`;
  const signature = `${d.label}|${entry.endsHere}|${height < 25}|${height < 60}`;
  if (block._signature === signature) return;
  block._signature = signature;
  block.title = d.label;
  block.setAttribute("aria-label", d.label);
  const movable = !d.block && ACTIVE.has(item.status);
  const who = d.who ? ` · ${d.who}` : "";
  let lines;
  if (height < 25) lines = [h("span", { class: "a-title" }, `${d.title}${who} ${F.time(d.s, tz)}`)];
  else {
    // Under an hour: title and client share the first line, so a half-hour block shows both.
    lines = height < 60 ? [h("span", { class: "a-title" }, `${d.title}${who}`)] : [h("span", { class: "a-title" }, d.title), d.who ? h("span", { class: "a-who" }, d.who) : null];
    lines.push(h("span", { class: "a-time" }, d.time));
    if (d.zone) lines.push(h("span", { class: "a-zone" }, d.zone));
    if (d.shownStatus && d.shownStatus !== "confirmed") lines.push(h("span", { class: "a-status" }, d.shownStatus));
  }
  lines = lines.filter(Boolean);
  fill(
    block,
    lines.flatMap((line, i) => (i ? [" ", line] : [line])), // spaces keep the lines' words apart
    movable && entry.endsHere ? h("span", { class: "grip", "aria-hidden": "true", "data-grip": "" }) : null,
  );
}
