// "Book weekly" (PROTOCOL.md "Recurring appointments"): the picked time
// every week, N times, as one all-or-nothing series. The hub expands the
// rule in the calendar's time zone, keeping its wall-clock time across
// daylight-saving changes; the preview here does the same.

import { h, show } from "../ui.js";
import { chosenCalendar, hubNow } from "./store.js";
import * as Z from "./zones.js";

const MOST_WEEKS = 12;

/** The starts (ms) of `weeks` weekly occurrences of the choice, on the calendar's clock. */
export function occurrences(state, weeks) {
  const calendar = chosenCalendar(state);
  if (!state.choice || !calendar) return [];
  const zone = calendar.timezone;
  const first = Date.parse(state.choice.starts_at);
  const w = Z.wallOf(first, zone);
  const day = { y: w.y, m: w.m, d: w.d };
  return Array.from({ length: weeks }, (_, i) => Z.instantOf(Z.addDays(day, 7 * i), w.hour, w.minute, zone));
}

/** How many weeks fit before the calendar's booking horizon (at most 12). */
export function mostWeeks(state) {
  const calendar = chosenCalendar(state);
  if (!state.choice || !calendar) return 0;
  const horizon = hubNow(state) + calendar.horizon_days * Z.DAY_MS;
  return occurrences(state, MOST_WEEKS).filter((start) => start < horizon).length;
}

/** The rule the hub takes. */
export function weeklyRule(weeks) {
  return `FREQ=WEEKLY;COUNT=${weeks}`;
}

/** "taken", "outside opening hours", … for a conflict's code. */
export function conflictWords(conflicts, zone) {
  const why = { slot_taken: "taken", outside_availability: "outside opening hours", bad_request: "too soon or too far ahead" };
  return conflicts
    .map((c) => `${Z.dayName(Z.dayOf(Date.parse(c.starts_at), zone))} (${why[c.code] || c.code})`)
    .join(", ");
}

/** The "Book weekly" box and its number of weeks, with the dates it would book. */
export class WeeklyField {
  constructor(store, actions) {
    this.store = store;
    this.box = h("input", { type: "checkbox", id: "cp-weekly" });
    this.weeks = h("select", { id: "cp-weeks" });
    this.preview = h("p", { class: "cp-weekly-dates", id: "cp-weekly-dates" });
    this.more = h(
      "div",
      { class: "cp-weekly-more" },
      h("label", { for: "cp-weeks" }, "Number of weeks"),
      this.weeks,
    );
    this.element = h(
      "fieldset",
      { class: "cp-weekly" },
      h("legend", {}, "Repeat"),
      h("div", { class: "cp-check" }, this.box, h("label", { for: "cp-weekly" }, "Book weekly")),
      this.more,
      this.preview,
    );
    this.box.addEventListener("change", () => actions.setWeeks(this.box.checked ? Math.min(4, mostWeeks(store.get())) : 0));
    this.weeks.addEventListener("change", () => actions.setWeeks(Number(this.weeks.value)));
  }

  render(state) {
    const most = mostWeeks(state);
    show(this.element, Boolean(state.choice) && !state.moving && most >= 2);
    const weeks = Math.min(state.weeks, most);
    this.box.checked = weeks >= 2;
    show(this.more, weeks >= 2);
    show(this.preview, weeks >= 2);
    const options = Array.from({ length: Math.max(0, most - 1) }, (_, i) => String(i + 2));
    if (options.join() !== this.options) {
      this.options = options.join();
      this.weeks.replaceChildren(...options.map((n) => h("option", { value: n }, `${n} weeks`)));
    }
    if (weeks >= 2) {
      this.weeks.value = String(weeks);
      const starts = occurrences(state, weeks);
      const time = Z.timeText(starts[0], state.zone);
      // On the calendar's clock every occurrence is at the same time; on another zone's, a DST change can move it.
      const dates = starts.map((ms) => {
        const at = Z.timeText(ms, state.zone);
        return Z.dayName(Z.dayOf(ms, state.zone)) + (at === time ? "" : ` at ${at}`);
      });
      this.preview.textContent = `${weeks} appointments at ${time}: ${dates.join(", ")}. All are booked, or none.`;
    }
  }
}
