// The month calendar: a grid named by month and year, one button per day,
// named with the day and its free times or why it has none. Keyboard as in
// the WAI-ARIA APG date picker: arrows move by day and week, Home and End to
// the week's ends, Page Up and Page Down by month; every day is focusable,
// days without free times are aria-disabled.

import { h } from "../ui.js";
import { countText, monthDays } from "./days.js";
import { hubNow } from "./store.js";
import * as Z from "./zones.js";

const WEEKDAYS = Z.weekdayNames();

export class MonthView {
  constructor(root, store, actions) {
    this.store = store;
    this.actions = actions;
    this.focusKey = null; // the day that has tabindex=0 (roving focus)
    this.title = h("h2", { id: "cp-month-title", class: "cp-month-title" });
    this.prev = h("button", { type: "button", class: "cp-nav", "aria-label": "Previous month" }, "‹");
    this.next = h("button", { type: "button", class: "cp-nav", "aria-label": "Next month" }, "›");
    this.body = h("tbody");
    this.grid = h(
      "table",
      { role: "grid", class: "cp-grid", "aria-labelledby": "cp-month-title" },
      h("thead", {}, h("tr", {}, ...WEEKDAYS.map(([short, long]) => h("th", { scope: "col", abbr: long }, short)))),
      this.body,
    );
    this.nextFree = h("button", { type: "button", class: "cp-next-free" }, "Next available");
    this.prev.addEventListener("click", () => actions.showMonth(-1));
    this.next.addEventListener("click", () => actions.showMonth(1));
    this.nextFree.addEventListener("click", () => actions.nextAvailable());
    this.body.addEventListener("click", (event) => this.onClick(event));
    this.body.addEventListener("keydown", (event) => this.onKey(event));
    root.replaceChildren(
      h("div", { class: "cp-month-head" }, this.prev, this.title, this.next),
      this.grid,
      h("div", { class: "cp-month-foot" }, this.nextFree, h("p", { class: "cp-legend" }, "Shaded days have free times.")),
    );
    store.subscribe((state) => this.render(state));
    this.render(store.get());
  }

  render(state) {
    const signature = [state.month.y, state.month.m, state.day, state.slotsKey, state.slots, state.holds, state.zone, state.calendarId, state.skew].map(String).join("|");
    if (signature === this.signature && state.slots === this.slots && state.holds === this.holds) return;
    [this.signature, this.slots, this.holds] = [signature, state.slots, state.holds];
    const hadFocus = this.grid.contains(document.activeElement);
    const days = monthDays(state);
    const todayKey = Z.keyOf(hubNow(state), state.zone);
    const thisMonth = Z.monthOf(Z.parseDayKey(todayKey));
    this.title.textContent = Z.monthTitle(state.month);
    this.prev.disabled = state.month.y * 12 + state.month.m <= thisMonth.y * 12 + thisMonth.m;
    if (!days.some((d) => d.key === this.focusKey)) {
      this.focusKey = days.find((d) => d.key === state.day)?.key || days.find((d) => d.count)?.key || days.find((d) => d.key === todayKey)?.key || days[0].key;
    }
    const cells = days.map((d) => this.cell(d, state.day, todayKey));
    const lead = Z.weekday(days[0].day);
    const padded = [...Array.from({ length: lead }, () => h("td", { class: "cp-pad" })), ...cells];
    while (padded.length % 7) padded.push(h("td", { class: "cp-pad" }));
    const rows = [];
    for (let i = 0; i < padded.length; i += 7) rows.push(h("tr", {}, ...padded.slice(i, i + 7)));
    this.body.replaceChildren(...rows);
    if (hadFocus) this.focusDay(this.focusKey);
  }

  cell({ day, key, count, reason }, chosen, todayKey) {
    const name = `${Z.dayName(day)}, ${count ? countText(count) : reason}`;
    const button = h(
      "button",
      {
        type: "button",
        class: `cp-day${count ? " cp-free" : ""}${reason === "checking" ? " cp-checking" : ""}${reason === "past" ? " cp-gone" : ""}`,
        "aria-label": name,
        "aria-disabled": count ? null : "true",
        "aria-current": key === todayKey ? "date" : null,
        tabindex: key === this.focusKey ? "0" : "-1",
        title: count ? null : reason,
        dataset: { key },
      },
      // Only the day's number shows: the visible text must be part of the name (WCAG 2.5.3).
      h("span", { class: "cp-day-num" }, String(day.d)),
      h("span", { class: "cp-day-dot" }),
    );
    return h("td", { "aria-selected": key === chosen ? "true" : "false" }, button);
  }

  onClick(event) {
    const button = event.target.closest("button.cp-day");
    if (!button) return;
    this.focusKey = button.dataset.key;
    if (button.getAttribute("aria-disabled") === "true") {
      this.render(this.store.get());
      return;
    }
    this.actions.chooseDay(button.dataset.key);
  }

  onKey(event) {
    const button = event.target.closest("button.cp-day");
    if (!button) return;
    const day = Z.parseDayKey(button.dataset.key);
    const moves = {
      ArrowLeft: () => Z.addDays(day, -1),
      ArrowRight: () => Z.addDays(day, 1),
      ArrowUp: () => Z.addDays(day, -7),
      ArrowDown: () => Z.addDays(day, 7),
      Home: () => Z.addDays(day, -Z.weekday(day)),
      End: () => Z.addDays(day, 6 - Z.weekday(day)),
      PageUp: () => clampDay(Z.addMonths(day, -1), day.d),
      PageDown: () => clampDay(Z.addMonths(day, 1), day.d),
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const target = move();
    this.focusKey = Z.dayKey(target);
    const state = this.store.get();
    if (!Z.sameMonth(target, state.month)) {
      this.actions.showMonthOf(target); // re-renders, then focus follows (hadFocus)
      this.focusDay(this.focusKey);
      return;
    }
    this.render(state);
    this.focusDay(this.focusKey);
  }

  focusDay(key) {
    for (const b of this.body.querySelectorAll("button.cp-day")) b.tabIndex = b.dataset.key === key ? 0 : -1;
    this.body.querySelector(`button[data-key="${key}"]`)?.focus();
  }
}

function clampDay(month, d) {
  return { ...month, d: Math.min(d, Z.daysInMonth(month)) };
}
