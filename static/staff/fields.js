// Date and time fields that speak the dashboard's one format (format.js).
//
// A browser's own <input type="date|time"> formats by the browser's interface
// language, which need not be the locale the page formats with; so these are
// text fields that show "Fri 4 Dec 2026" and "14:30" (or "2:30 PM"), read
// what people type (ISO, the locale's numeric order, month names, "tomorrow",
// "1430", "2:30 pm"), and step with the arrow keys. The field's value lives
// in data-value: "2026-12-04" for a date, "14:30" for a time.

import * as Z from "../zoned.js";
import * as F from "./format.js";

// Dates

const numericOrder = () =>
  new Intl.DateTimeFormat(undefined, { day: "numeric", month: "numeric", year: "numeric" })
    .formatToParts(Date.UTC(2026, 10, 30))
    .map((p) => p.type)
    .filter((t) => t === "day" || t === "month" || t === "year");

let monthNames = null;
function months() {
  if (!monthNames) {
    monthNames = new Map();
    for (let m = 0; m < 12; m += 1) {
      for (const style of ["long", "short"]) {
        const name = new Intl.DateTimeFormat(undefined, { month: style, timeZone: "UTC" }).format(Date.UTC(2026, m, 1));
        monthNames.set(name.toLowerCase().replace(/\.$/, ""), m + 1);
      }
      const english = new Intl.DateTimeFormat("en", { month: "short", timeZone: "UTC" }).format(Date.UTC(2026, m, 1));
      monthNames.set(english.toLowerCase(), m + 1);
    }
  }
  return monthNames;
}

/** A typed date → a day, or null. `near` gives the year when none is typed. */
export function parseDay(text, near = Z.today(Intl.DateTimeFormat().resolvedOptions().timeZone)) {
  const t = (text || "").trim().toLowerCase();
  if (!t) return null;
  if (t === "today") return near;
  if (t === "tomorrow") return Z.addDays(near, 1);
  if (t === "yesterday") return Z.addDays(near, -1);
  const iso = Z.parseDayKey(t);
  if (iso) return iso;
  const words = t.replace(/,/g, " ").split(/[\s/.-]+/).filter(Boolean);
  const named = words.findIndex((w) => months().has(w.replace(/\.$/, "")));
  let d;
  let m;
  let y;
  if (named >= 0) {
    m = months().get(words[named].replace(/\.$/, ""));
    const numbers = words.filter((w, i) => i !== named && /^\d+$/.test(w)).map(Number);
    [d, y] = numbers;
  } else {
    const numbers = words.filter((w) => /^\d+$/.test(w)).map(Number);
    if (numbers.length < 2) return null;
    const order = numericOrder();
    const parts = {};
    order.filter((k) => numbers.length === 3 || k !== "year").forEach((k, i) => (parts[k] = numbers[i]));
    ({ day: d, month: m, year: y } = parts);
  }
  if (!d || !m) return null;
  if (y === undefined) y = near.y;
  else if (y < 100) y += 2000;
  const day = { y, m, d };
  return Z.sameDay(Z.addDays(day, 0), day) ? day : null;
}

export function setDay(input, day) {
  input.dataset.value = Z.dayKey(day);
  input.value = F.longDay(day);
}

export function readDay(input) {
  return parseDay(input.value, Z.parseDayKey(input.dataset.value || "") || undefined);
}

/** Make a text input a date field (arrow keys step a day). */
export function dateField(input) {
  input.setAttribute("autocomplete", "off");
  input.setAttribute("spellcheck", "false");
  input.addEventListener("change", () => {
    const day = readDay(input);
    if (day) setDay(input, day);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
    const day = readDay(input);
    if (!day) return;
    event.preventDefault();
    setDay(input, Z.addDays(day, event.key === "ArrowUp" ? 1 : -1));
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

// Times

/** A typed time → minutes since midnight (0 … 1440), or null. */
export function parseTime(text) {
  const t = (text || "").trim().toLowerCase().replace(/\s+/g, "").replace(/\./g, "");
  const match = /^(\d{1,2})(?::?(\d{2}))?(am|pm|a|p)?$/.exec(t);
  if (!match) return null;
  let hour = Number(match[1]);
  const minute = Number(match[2] || 0);
  const half = match[3]?.[0];
  if (minute > 59) return null;
  if (half) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (half === "p" ? 12 : 0);
  }
  if (hour > 24 || (hour === 24 && minute)) return null;
  return hour * 60 + minute;
}

export function hhmmOf(minutes) {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

export function setTime(input, minutes) {
  input.dataset.value = hhmmOf(minutes);
  input.value = F.clock(minutes % 1440);
}

export function readTime(input) {
  return parseTime(input.value);
}

let times = null;

/** Make a text input a time field: suggestions every 15 minutes, arrow keys step 15 minutes. */
export function timeField(input) {
  input.setAttribute("autocomplete", "off");
  input.setAttribute("spellcheck", "false");
  input.setAttribute("inputmode", "numeric");
  if (!times) {
    times = document.createElement("datalist");
    times.id = "quarter-hours";
    for (let m = 0; m < 1440; m += 15) times.append(new Option(F.clock(m)));
    document.body.append(times);
  }
  input.setAttribute("list", times.id);
  input.addEventListener("change", () => {
    const minutes = readTime(input);
    if (minutes !== null) setTime(input, minutes);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
    const minutes = readTime(input);
    if (minutes === null) return;
    event.preventDefault();
    const next = (Math.floor(minutes / 15) + (event.key === "ArrowUp" ? 1 : minutes % 15 ? 0 : -1)) * 15;
    setTime(input, (next + 1440) % 1440);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
}
