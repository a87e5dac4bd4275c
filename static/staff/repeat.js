// "Repeat" in the new-appointment dialog: weekly on chosen days or monthly on
// a day, every N weeks or months, ending after N appointments or on a date;
// and, before anything is booked, the hub's preview of the occurrences with
// the ones that cannot be booked marked (appointment.create with
// "preview": true books nothing). A refused series is marked the same way.

import { $, debounce, fill, h, show } from "../ui.js";
import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import { dateField, readDay, setDay } from "./fields.js";
import * as F from "./format.js";
import { buildRule, dayShift, problem, ruleWords } from "./rrule.js";
import { conflictsByStart, occurrenceWhen, reason } from "./series.js";

const PREVIEW_WAIT_MS = 250;

export class Repeat {
  /** `read()` gives the dialog's booking ({calendar_id, starts_at, ends_at, title, client_id?}) or null. */
  constructor(store, actions, read) {
    this.store = store;
    this.actions = actions;
    this.read = read;
    this.asked = 0; // previews asked for: a later one wins
    this.daysTouched = false;
    this.shown = null; // the last occurrences listed: {occurrences, conflicts}
    this.days = Array.from({ length: 7 }, (_, weekday) =>
      h("input", { type: "checkbox", value: String(weekday), title: F.weekdayLong(weekday) }),
    );
    $("#rep-day-list").replaceChildren(...this.days.map((box, weekday) => h("label", { class: "inline check" }, box, F.weekdayShort(weekday))));
    dateField($("#rep-until"));
    this.later = debounce(() => this.preview(), PREVIEW_WAIT_MS);
    $("#rep-freq").addEventListener("change", () => this.layout());
    $("#rep-ends").addEventListener("change", () => this.layout());
    $("#rep-days").addEventListener("change", () => (this.daysTouched = true));
    $("#rep-interval").addEventListener("input", () => this.unit());
  }

  /** Back to "Does not repeat", with defaults taken from the first start. */
  reset(start) {
    $("#rep-freq").value = "";
    $("#rep-interval").value = "1";
    $("#rep-ends").value = "count";
    $("#rep-count").value = "10";
    this.daysTouched = false;
    this.follow(start);
    setDay($("#rep-until"), Z.addMonths(Z.dayOf(start, this.store.view.tz), 3));
    this.layout();
  }

  /** The first start changed: days not chosen by hand follow it. */
  follow(start) {
    if (start == null) return;
    const day = Z.dayOf(start, this.store.view.tz);
    if (!this.daysTouched) this.days.forEach((box, weekday) => (box.checked = weekday === Z.weekday(day)));
    if (!this.daysTouched) $("#rep-monthday").value = String(day.d);
  }

  get on() {
    return Boolean($("#rep-freq").value);
  }

  layout() {
    const freq = $("#rep-freq").value;
    show($("#rep-options"), Boolean(freq));
    show($("#rep-every-field"), Boolean(freq));
    show($("#rep-days"), freq === "WEEKLY");
    show($("#rep-monthday-field"), freq === "MONTHLY");
    const until = $("#rep-ends").value === "until";
    show($("#rep-count-field"), !until);
    show($("#rep-until-field"), until);
    this.unit();
    this.changed();
  }

  /** "Every [2] weeks": the unit follows the number, and the field's name says all three. */
  unit() {
    const input = $("#rep-interval");
    const word = $("#rep-freq").value === "MONTHLY" ? "month" : "week";
    const unit = Number(input.value) === 1 ? word : `${word}s`;
    $("#rep-unit").textContent = unit;
    input.setAttribute("aria-label", `Every ${input.value} ${unit}`);
  }

  /** Something in the dialog changed: preview again shortly. */
  changed() {
    this.asked += 1; // an answer on its way is stale now
    if (!this.on) return;
    $("#rep-summary").textContent = "Checking the dates…";
    this.later();
  }

  choices() {
    const until = $("#rep-ends").value === "until";
    return {
      freq: $("#rep-freq").value,
      interval: Number($("#rep-interval").value),
      days: this.days.filter((box) => box.checked).map((box) => Number(box.value)),
      monthDay: Number($("#rep-monthday").value),
      count: Number($("#rep-count").value),
      until: until ? readDay($("#rep-until")) || undefined : null,
    };
  }

  /** The RRULE for a booking, or {problem} when the choices make none; null when it does not repeat. */
  rule(booking) {
    if (!this.on) return null;
    const choices = this.choices();
    const start = Date.parse(booking.starts_at);
    const wrong = problem(choices, Z.dayOf(start, this.store.view.tz));
    if (wrong) return { problem: wrong };
    const calendar = this.store.calendars.get(booking.calendar_id);
    const shift = calendar ? dayShift(start, this.store.view.tz, calendar.timezone) : 0;
    return { text: buildRule(choices, shift), words: ruleWords(choices) };
  }

  /** Ask the hub which occurrences the dialog's series would book, and which it would refuse. */
  async preview() {
    if (!this.on) return;
    const asked = (this.asked += 1);
    const booking = this.read();
    if (!booking) return this.say("Give a date, a start and an end to see the dates.");
    const rule = this.rule(booking);
    if (rule.problem) return this.say(rule.problem);
    let answer;
    try {
      answer = await this.actions.preview({ ...booking, recurrence: rule.text });
    } catch (error) {
      if (asked === this.asked) this.say(explain(error));
      return;
    }
    if (asked === this.asked) this.list(answer.occurrences, answer.conflicts, rule.words);
  }

  say(text) {
    this.shown = null;
    $("#rep-summary").textContent = text;
    $("#rep-list").replaceChildren();
  }

  /** List the occurrences, the ones in `conflicts` marked with why. */
  list(occurrences, conflicts, words = "") {
    const tz = this.store.view.tz;
    this.shown = { occurrences, conflicts };
    const faults = conflictsByStart(conflicts);
    fill(
      $("#rep-list"),
      occurrences.map((o) => {
        const fault = faults.get(Date.parse(o.starts_at));
        return h(
          "li",
          { class: fault ? "conflict" : "", dataset: { startsAt: o.starts_at } },
          h("span", { class: "occ-mark", "aria-hidden": "true" }, fault ? "✕" : "✓"),
          h("span", {}, occurrenceWhen(o, tz)),
          fault ? h("span", { class: "occ-why" }, ` — cannot be booked: ${reason(fault.code)}`) : null,
        );
      }),
    );
    const first = occurrences[0];
    const last = occurrences[occurrences.length - 1];
    const span = first ? `, ${F.longDay(Z.dayOf(Date.parse(first.starts_at), tz))} to ${F.longDay(Z.dayOf(Date.parse(last.starts_at), tz))}` : "";
    const head = `${occurrences.length} appointments${words ? `, ${words}` : ""}${span}.`;
    const bad = conflicts.length;
    const tail = bad
      ? ` ${bad === 1 ? "1 of them cannot" : `${bad} of them cannot`} be booked (marked ✕); a series is booked all or nothing.`
      : " All of them are free.";
    $("#rep-summary").textContent = head + tail;
  }

  /** A refused booking: mark its conflicts in the list shown (or list them alone). */
  refused(conflicts) {
    const occurrences = this.shown?.occurrences?.length ? this.shown.occurrences : conflicts;
    this.list(occurrences, conflicts);
  }
}
