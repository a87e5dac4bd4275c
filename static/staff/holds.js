// Live slot holds on the time grid (PROTOCOL.md "Slot holds"): someone is
// booking that time right now, on the client page or another app. A hold is a
// distinct "being booked" block, named with "being booked", who holds it
// (staff see `held_by`), its time and until when; the cells under it are not
// offered for a new appointment. It goes when the hold ends or becomes the
// appointment (hub-client.js follows both).

import * as Z from "../zoned.js";
import { linesThatFit, placeBlock, sizeOf } from "./blocks.js";
import { ownZone } from "./describe.js";
import * as F from "./format.js";
import { ROWS, SLOT_MINUTES } from "./layout.js";

export const BEING_BOOKED = "Being booked";
const HELD_NOTE = ", being booked"; // ends the name of a cell under a hold

const described = new WeakMap(); // hold -> {key, words}

/** {time, who, zone, until, label, calendar} of a hold as the viewer in `tz` sees it. */
export function describeHold(hold, store, tz = store.view.tz) {
  const key = `${tz}|${store.revision}`;
  const hit = described.get(hold);
  if (hit?.key === key) return hit.words;
  const s = Date.parse(hold.starts_at);
  const e = Date.parse(hold.ends_at);
  const calendar = store.calendars.get(hold.calendar_id);
  const who = holderName(hold, store);
  const time = F.timeRange(s, e, tz);
  const zone = calendar ? ownZone(s, e, tz, calendar.timezone) : "";
  const until = `held until ${F.time(Date.parse(hold.expires_at), tz)}`;
  // As an appointment's name: what the block shows first, then the rest.
  const label = [BEING_BOOKED, who, time, zone, until, calendar?.name].filter(Boolean).join(", ");
  const words = { s, e, time, who, zone, until, label, calendar };
  described.set(hold, { key, words });
  return words;
}

/** Whose hold it is: "you", their name, or nothing when the hub did not say or the name is unknown. */
export function holderName(hold, store) {
  if (!hold.held_by) return "";
  if (hold.held_by === store.user.id) return "you";
  return store.personName(hold.held_by);
}

/** Place and word a hold's block for a laid-out entry (see drawBlock in blocks.js). */
export function drawHold(block, entry, col, columns, store, tz) {
  const hold = entry.item;
  const d = describeHold(hold, store, tz);
  const height = entry.bottom - entry.top;
  const flashing = block.classList.contains("glowing") ? " glowing" : "";
  const className = `appt hold cal-${store.colors.get(hold.calendar_id) ?? 0}${sizeOf(height)}${flashing}`;
  if (block.className !== className) block.className = className;
  if (block._item !== hold || block.dataset.col !== String(col)) {
    block._item = hold;
    Object.assign(block.dataset, {
      id: hold.id,
      hold: "",
      col: String(col),
      startsAt: hold.starts_at,
      endsAt: hold.ends_at,
      expiresAt: hold.expires_at,
    });
  }
  placeBlock(block, entry, col, columns);
  const signature = `${d.label}|${height}`;
  if (block._signature === signature) return;
  block._signature = signature;
  block.title = d.label;
  block.setAttribute("aria-label", d.label);
  const who = d.who ? ` · ${d.who}` : "";
  const lines = height < 25 ? [`${BEING_BOOKED}${who} ${F.time(d.s, tz)}`] : [`${BEING_BOOKED}${who}`, d.time, d.zone];
  block.textContent = lines.filter(Boolean).slice(0, linesThatFit(height)).join("\n");
}

/** The rows of a column that laid-out hold entries cover (any part of a row counts). */
export function heldRows(entries) {
  const rows = new Set();
  for (const entry of entries) {
    if (entry.item.kind !== "hold") continue;
    const last = Math.min(ROWS, Math.ceil(entry.bottom / SLOT_MINUTES)) - 1;
    for (let row = Math.floor(entry.top / SLOT_MINUTES); row <= last; row += 1) rows.add(row);
  }
  return rows;
}

/**
 * Mark a column's cells under a hold (named "being booked") and unmark the
 * rest; returns `rows`. Those with no block in them are aria-disabled: not
 * offered. A cell holding a block is not, since aria-disabled would disable
 * the block inside it too (the hold's own block opens "Release this hold?").
 */
export function markHeld(cells, before, rows) {
  for (const row of before) {
    if (rows.has(row)) continue;
    const cell = cells[row];
    cell.classList.remove("held");
    cell.removeAttribute("aria-disabled");
    const name = cell.firstChild; // the cell's sr-only name (timegrid.js)
    if (name.textContent.endsWith(HELD_NOTE)) name.textContent = name.textContent.slice(0, -HELD_NOTE.length);
  }
  for (const row of rows) {
    const cell = cells[row];
    if (!before.has(row)) {
      cell.classList.add("held");
      cell.firstChild.textContent += HELD_NOTE;
    }
    if (cell.querySelector(":scope > .appt")) cell.removeAttribute("aria-disabled");
    else cell.setAttribute("aria-disabled", "true");
  }
  return rows;
}

/** "Tue 1 Dec, 10:00–10:30" of a hold in a zone. */
export function holdWhen(hold, tz) {
  const s = Date.parse(hold.starts_at);
  return `${F.day(Z.dayOf(s, tz))}, ${F.timeRange(s, Date.parse(hold.ends_at), tz)}`;
}
