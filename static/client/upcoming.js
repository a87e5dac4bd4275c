// "Your appointments": upcoming ones with "Reschedule" and "Cancel"; past and
// cancelled ones under "Show past and cancelled".

import { h } from "../ui.js";
import { canWrite, hubNow } from "./store.js";
import { STATUS_WORDS, spanText } from "./words.js";
import * as Z from "./zones.js";

const ACTIVE = new Set(["pending", "confirmed"]);
const PAST_SHOWN = 20;

export class UpcomingView {
  constructor(root, store, actions) {
    this.store = store;
    this.actions = actions;
    this.asking = null; // the appointment whose "Cancel" asks for confirmation
    this.upcoming = h("ul", { class: "cp-list", "aria-labelledby": "cp-mine-title" });
    this.toggle = h("button", { type: "button", class: "cp-quiet cp-toggle", "aria-expanded": "false", "aria-controls": "cp-past" }, "Show past and cancelled");
    this.past = h("ul", { class: "cp-list cp-past", id: "cp-past", "aria-label": "Past and cancelled appointments", hidden: true });
    this.toggle.addEventListener("click", () => actions.togglePast());
    root.replaceChildren(h("h2", { id: "cp-mine-title" }, "Your appointments"), this.upcoming, this.toggle, this.past);
    root.addEventListener("click", (event) => this.onClick(event));
    store.subscribe((state) => this.render(state));
    this.render(store.get());
  }

  render(state) {
    const now = hubNow(state);
    const all = [...state.mine.values()].filter((a) => !a.kind || a.kind === "appointment"); // not blocks or holds
    const ahead = all.filter((a) => ACTIVE.has(a.status) && Date.parse(a.ends_at) > now);
    ahead.sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
    const behind = all.filter((a) => !ahead.includes(a));
    behind.sort((a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at));
    const writable = canWrite(state) && !state.busy && !state.checking;
    const hadFocus = this.focusedAction();
    this.upcoming.replaceChildren(
      ...(ahead.length ? ahead.map((a) => this.item(a, state, writable)) : [h("li", { class: "cp-none" }, "Nothing booked ahead.")]),
    );
    this.toggle.setAttribute("aria-expanded", String(state.showPast));
    this.toggle.textContent = state.showPast ? "Hide past and cancelled" : "Show past and cancelled";
    this.toggle.hidden = !behind.length;
    this.past.hidden = !state.showPast || !behind.length;
    this.past.replaceChildren(...behind.slice(0, PAST_SHOWN).map((a) => this.item(a, state, false)));
    if (hadFocus) this.upcoming.querySelector(`[data-id="${hadFocus.id}"] [data-act="${hadFocus.act}"]`)?.focus();
  }

  focusedAction() {
    const active = document.activeElement;
    if (!active || !this.upcoming.contains(active) || !active.dataset.act) return null;
    return { id: active.closest("li").dataset.id, act: active.dataset.act };
  }

  item(a, state, writable) {
    const calendar = state.calendars.find((c) => c.id === a.calendar_id);
    const start = Date.parse(a.starts_at);
    const when = `${Z.dayName(Z.dayOf(start, state.zone))}, ${spanText(state.zone, calendar?.timezone, a.starts_at, a.ends_at)}`;
    const summaryId = `cp-appt-${a.id}`;
    const li = h(
      "li",
      { class: `cp-appt cp-status-${a.status}`, dataset: { id: a.id, status: a.status } },
      h(
        "div",
        { class: "cp-appt-text", id: summaryId },
        h("span", { class: "cp-appt-when" }, when),
        h("span", { class: "cp-appt-what" }, `${a.title}${a.series_id ? " · weekly" : ""}${calendar ? ` · ${calendar.name}` : ""}`),
      ),
      h("span", { class: `cp-badge cp-status-${a.status}` }, STATUS_WORDS[a.status] || a.status),
    );
    if (!writable && !ACTIVE.has(a.status)) return li;
    if (Date.parse(a.ends_at) <= hubNow(state) || !ACTIVE.has(a.status)) return li;
    li.append(this.actionsFor(a, summaryId, writable, state));
    return li;
  }

  actionsFor(a, summaryId, writable, state) {
    const button = (act, text, cls = "") =>
      h("button", { type: "button", class: cls, dataset: { act }, "aria-describedby": summaryId, disabled: !writable }, text);
    if (this.asking === a.id) {
      return h(
        "div",
        { class: "cp-appt-actions cp-asking", role: "group", "aria-label": "Cancel this appointment?" },
        h("span", {}, "Cancel this appointment?"),
        button("cancel-yes", "Yes, cancel it", "danger"),
        button("cancel-no", "Keep it"),
      );
    }
    const moving = state.moving?.id === a.id;
    return h(
      "div",
      { class: "cp-appt-actions" },
      moving ? h("span", { class: "cp-tag" }, "Picking a new time…") : button("move", "Reschedule"),
      button("cancel", "Cancel", "cp-quiet"),
    );
  }

  onClick(event) {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const a = this.store.get().mine.get(button.closest("li").dataset.id);
    if (!a) return;
    const act = button.dataset.act;
    if (act === "move") this.actions.startMoving(a);
    if (act === "cancel" || act === "cancel-no") {
      this.asking = act === "cancel" ? a.id : null;
      this.render(this.store.get());
      this.upcoming.querySelector(`[data-id="${a.id}"] [data-act="${act === "cancel" ? "cancel-no" : "cancel"}"]`)?.focus();
    }
    if (act === "cancel-yes") {
      this.asking = null;
      this.actions.cancel(a);
    }
  }
}
