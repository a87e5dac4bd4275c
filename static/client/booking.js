// Under the free times: the picked time and its hold ("Held for you until
// 10:32", with the time left), the booking form (or "Move to this time" when
// rescheduling), and what happened to the last action.

import { h, show } from "../ui.js";
import { canWrite, chosenCalendar, hubNow } from "./store.js";
import { WeeklyField } from "./weekly.js";
import { spanText, whenText } from "./words.js";
import * as Z from "./zones.js";

export class BookingView {
  constructor(root, movingRoot, store, actions) {
    this.store = store;
    this.actions = actions;
    this.moving = h("div", { class: "cp-moving", hidden: true });
    this.keep = h("button", { type: "button", class: "cp-quiet" }, "Keep the current time");
    this.keep.addEventListener("click", () => actions.stopMoving());
    this.hint = h("p", { class: "cp-hint" });
    this.held = h("p", { class: "cp-held", role: "status" });
    this.left = h("span", { class: "cp-left", role: "timer" });
    this.picked = h("p", { class: "cp-picked" });
    this.reason = h("input", { id: "cp-reason", maxlength: "200", autocomplete: "off", value: "Appointment", required: true });
    this.notes = h("textarea", { id: "cp-notes", rows: "2", maxlength: "2000" });
    this.submit = h("button", { type: "submit", class: "primary cp-submit" }, "Book");
    this.bookFields = h(
      "div",
      { class: "cp-book-fields" },
      h("div", { class: "cp-field" }, h("label", { for: "cp-reason" }, "Reason for the visit"), this.reason),
      h("div", { class: "cp-field" }, h("label", { for: "cp-notes" }, "Notes for the clinic ", h("small", {}, "(optional)")), this.notes),
    );
    this.weekly = new WeeklyField(store, actions);
    this.form = h("form", { class: "cp-form", hidden: true }, this.held, this.picked, this.bookFields, this.weekly.element, this.submit);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const { moving } = this.store.get();
      if (moving) actions.move(moving);
      else actions.book(this.reason.value.trim(), this.notes.value.trim());
    });
    this.notice = h("p", { class: "cp-notice", role: "status", "aria-live": "polite" });
    movingRoot.replaceChildren(this.moving);
    root.replaceChildren(this.hint, this.form, this.notice);
    this.timer = setInterval(() => this.tick(), 1000);
    store.subscribe((state) => this.render(state));
    this.render(store.get());
  }

  stop() {
    clearInterval(this.timer);
  }

  render(state) {
    this.renderMoving(state);
    const { choice } = state;
    show(this.hint, !choice);
    this.hint.textContent = state.moving ? "Pick a new time for it above." : "Pick a free time above: it is held for you while you book.";
    show(this.form, Boolean(choice));
    if (choice) {
      const calendar = chosenCalendar(state);
      const day = Z.dayName(Z.dayOf(Date.parse(choice.starts_at), state.zone));
      this.picked.textContent = `${day}, ${spanText(state.zone, calendar?.timezone, choice.starts_at, choice.ends_at)} · ${calendar?.name || ""}`;
      this.held.replaceChildren(...this.heldWords(state));
      show(this.bookFields, !state.moving);
      this.weekly.render(state);
    }
    const waiting = state.busy === "book" || state.busy === "move";
    this.submit.textContent = state.moving ? (waiting ? "Moving…" : "Move to this time") : waiting ? "Booking…" : "Book";
    this.submit.disabled = !canWrite(state) || Boolean(state.busy || state.checking || state.holding);
    this.notice.textContent = state.notice?.text || "";
    this.notice.dataset.kind = state.notice?.kind || "";
    this.tick();
  }

  heldWords(state) {
    if (state.holding) return [`Holding ${whenText(state, state.choice.starts_at)} for you…`];
    if (!state.hold) return state.holdsWork ? [] : ["Not held: book it before someone else does."];
    const until = Z.timeText(Date.parse(state.hold.expires_at), state.zone);
    return [h("strong", {}, `Held for you until ${until}`), " ", this.left];
  }

  renderMoving(state) {
    show(this.moving, Boolean(state.moving));
    if (!state.moving) return;
    const a = state.moving;
    const calendar = state.calendars.find((c) => c.id === a.calendar_id);
    this.moving.replaceChildren(
      h("p", {}, h("strong", {}, "Rescheduling: "), `${a.title}, now ${whenText(state, a.starts_at)} (${spanText(state.zone, calendar?.timezone, a.starts_at, a.ends_at)}).`),
      this.keep,
    );
    this.keep.disabled = Boolean(state.busy);
  }

  /** The time left on the hold, once a second; it never goes below zero. */
  tick() {
    const state = this.store.get();
    if (!state.hold) return;
    const left = Math.max(0, Date.parse(state.hold.expires_at) - hubNow(state));
    const minutes = Math.floor(left / 60_000);
    const seconds = Math.floor((left % 60_000) / 1000);
    this.left.textContent = left ? `(${minutes}:${String(seconds).padStart(2, "0")} left)` : "(ending now)";
  }
}
