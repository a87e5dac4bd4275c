// Administration of calendars: the list, "New calendar", and the editor of a
// calendar's name, time zone, working hours per weekday, booking rules and
// whether it is active.

import { $, h, show } from "../ui.js";
import { explain } from "./actions.js";
import { hhmmOf, parseTime, readTime, setTime, timeField } from "./fields.js";
import * as F from "./format.js";
import { browserZone } from "./url.js";
import { fillZoneSelect } from "./zones.js";

const DEFAULT_HOURS = [0, 1, 2, 3, 4].map((weekday) => ({ weekday, start: "09:00", end: "17:00" }));
const RULES = [
  ["#cal-step", "slot_step_minutes", 15],
  ["#cal-buffer-before", "buffer_before_minutes", 0],
  ["#cal-buffer-after", "buffer_after_minutes", 0],
  ["#cal-notice", "min_notice_minutes", 0],
  ["#cal-horizon", "horizon_days", 90],
];

export class CalendarsAdmin {
  constructor(store, actions, feedback) {
    this.store = store;
    this.actions = actions;
    this.feedback = feedback;
    this.editing = null; // calendar id, or "" for a new one
    $("#cal-new").addEventListener("click", () => this.edit(null));
    $("#cal-cancel").addEventListener("click", () => this.close());
    $("#cal-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    store.on((change) => {
      if (change.type === "calendars" && !$("#screen-calendars").hidden) this.renderList();
    });
  }

  show() {
    this.renderList();
  }

  renderList() {
    const items = [...this.store.calendars.values()].map((c) =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: `cal-row cal-${this.store.colors.get(c.id)}${c.id === this.editing ? " current" : ""}`, dataset: { id: c.id } },
          h("span", { class: "chip", "aria-hidden": "true" }),
          h("span", { class: "cal-row-name" }, c.name),
          h("small", {}, `${c.timezone} · ${hoursSummary(c.working_hours)}${c.is_active ? "" : " · inactive"}`),
        ),
      ),
    );
    const list = $("#cal-list");
    list.replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, "No calendars yet.")]));
    list.querySelectorAll("button.cal-row").forEach((b) => b.addEventListener("click", () => this.edit(this.store.calendars.get(b.dataset.id))));
  }

  edit(calendar) {
    this.editing = calendar ? calendar.id : "";
    $("#cal-form-title").textContent = calendar ? `Edit ${calendar.name}` : "New calendar";
    $("#cal-name").value = calendar?.name || "";
    fillZoneSelect($("#cal-tz"), calendar?.timezone || browserZone());
    for (const [selector, key, fallback] of RULES) $(selector).value = String(calendar?.[key] ?? fallback);
    $("#cal-active").checked = calendar ? calendar.is_active : true;
    $("#cal-msg").textContent = "";
    $("#cal-save").textContent = calendar ? "Save calendar" : "Create calendar";
    this.renderHours(calendar ? calendar.working_hours : DEFAULT_HOURS);
    show($("#cal-form"), true);
    this.renderList();
    $("#cal-name").focus();
  }

  close() {
    this.editing = null;
    show($("#cal-form"), false);
    this.renderList();
  }

  renderHours(hours) {
    const days = Array.from({ length: 7 }, (_, weekday) => {
      const ranges = h("div", { class: "ranges" });
      const name = F.weekdayLong(weekday);
      const group = h("fieldset", { class: "day-hours", dataset: { weekday: String(weekday) } }, h("legend", {}, name), ranges);
      const add = h("button", { type: "button", class: "small" }, "Add range");
      add.addEventListener("click", () => {
        const last = [...ranges.querySelectorAll(".range")].pop();
        const from = last ? (readTime(last.querySelector(".end")) ?? 780) % 1440 : 540;
        const range = { start: hhmmOf(from), end: hhmmOf(Math.min(1440, from + 60)) };
        this.addRange(ranges, name, range).querySelector(".start").focus();
      });
      group.append(add);
      for (const range of hours.filter((r) => r.weekday === weekday)) this.addRange(ranges, name, range);
      return group;
    });
    $("#cal-hours").replaceChildren(...days);
  }

  addRange(box, dayName, range) {
    const start = h("input", { class: "start time", required: true });
    const end = h("input", { class: "end time", required: true });
    timeField(start);
    timeField(end);
    setTime(start, parseTime(range.start));
    setTime(end, parseTime(range.end));
    const remove = h("button", { type: "button", class: "small quiet", "aria-label": `Remove this ${dayName} range` }, "Remove");
    const row = h("div", { class: "range" }, h("label", {}, "Start", start), h("label", {}, "End", end), remove);
    remove.addEventListener("click", () => {
      row.remove();
      box.closest("fieldset").lastElementChild.focus(); // "Add range"
    });
    box.append(row);
    return row;
  }

  /** The form as calendar fields, or a sentence saying what to fix. */
  read() {
    const name = $("#cal-name").value.trim();
    if (!name) return "Give the calendar a name.";
    const working = [];
    for (const group of document.querySelectorAll("#cal-hours .day-hours")) {
      const weekday = Number(group.dataset.weekday);
      const ranges = [];
      for (const row of group.querySelectorAll(".range")) {
        const start = readTime(row.querySelector(".start"));
        let end = readTime(row.querySelector(".end"));
        if (end === 0) end = 1440; // an end of 00:00 is midnight
        if (start === null || end === null || start >= 1440 || end <= start) {
          return `${F.weekdayLong(weekday)}: each range needs a start before its end, such as ${F.clock(540)} to ${F.clock(1020)}.`;
        }
        ranges.push({ weekday, start: hhmmOf(start), end: hhmmOf(end) });
      }
      ranges.sort((a, b) => a.start.localeCompare(b.start));
      if (ranges.some((r, i) => i && r.start < ranges[i - 1].end)) return `${F.weekdayLong(weekday)}: ranges overlap.`;
      working.push(...ranges);
    }
    const fields = { name, timezone: $("#cal-tz").value, working_hours: working };
    for (const [selector, key] of RULES) {
      const input = $(selector);
      const value = Number(input.value);
      if (!input.checkValidity() || input.value === "" || !Number.isInteger(value)) return `${input.closest("label").firstChild.textContent.trim()}: give a whole number between ${input.min} and ${input.max}.`;
      fields[key] = value;
    }
    return fields;
  }

  async save() {
    const fields = this.read();
    const message = $("#cal-msg");
    if (typeof fields === "string") {
      message.textContent = fields;
      return;
    }
    const id = this.editing || null;
    if (id) fields.is_active = $("#cal-active").checked;
    $("#cal-save").disabled = true;
    try {
      let calendar = await this.actions.saveCalendar(id, fields);
      if (!id && !$("#cal-active").checked) calendar = await this.actions.saveCalendar(calendar.id, { is_active: false });
      if (!id) this.store.setView({ selected: [...this.store.view.selected, calendar.id] });
      this.feedback.say(id ? `Saved ${calendar.name}.` : `Created ${calendar.name}.`);
      this.edit(calendar);
    } catch (error) {
      message.textContent = explain(error);
    } finally {
      $("#cal-save").disabled = false;
    }
  }
}

/** "Mon–Fri 08:30–12:30, 13:30–18:00", or "5 days, 7 ranges" when the days differ. */
export function hoursSummary(hours) {
  if (!hours?.length) return "no working hours";
  const days = [...new Set(hours.map((r) => r.weekday))].sort();
  const shape = (day) =>
    hours
      .filter((r) => r.weekday === day)
      .map((r) => `${F.clock(toMinutes(r.start))}–${F.clock(toMinutes(r.end))}`)
      .sort()
      .join(", ");
  const consecutive = days.every((d, i) => !i || d === days[i - 1] + 1);
  const span = days.length === 1 ? F.weekdayShort(days[0]) : consecutive ? `${F.weekdayShort(days[0])}–${F.weekdayShort(days[days.length - 1])}` : `${days.length} days`;
  const shapes = new Set(days.map(shape));
  return shapes.size === 1 ? `${span} ${[...shapes][0]}` : `${span}, ${hours.length} ranges`;
}

function toMinutes(hhmm) {
  const [h_, m] = hhmm.split(":").map(Number);
  return h_ * 60 + m;
}
