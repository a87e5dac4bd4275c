// The agenda: a list named "Agenda" of the period's appointments, by day,
// each a button that opens it.

import { h } from "../ui.js";
import * as Z from "../zoned.js";
import { highlight } from "./blocks.js";
import { RECURRING, describe } from "./describe.js";
import * as F from "./format.js";

export class AgendaView {
  constructor(store, handlers) {
    this.store = store;
    this.handlers = handlers; // {open}
    this.el = null;
  }

  render(live = null) {
    const { period, view } = this.store;
    const tz = view.tz;
    const now = Date.now();
    const days = [];
    for (const day of period.days) {
      const from = +Z.zonedTime(day, 0, 0, tz);
      const to = +Z.zonedTime(Z.addDays(day, 1), 0, 0, tz);
      const found = this.store.between(from, to).filter(({ s }) => s >= from || day === period.days[0]);
      if (!found.length) continue;
      days.push(
        h(
          "li",
          { class: "ag-day" },
          h("h2", { class: "ag-date" }, F.longDay(day)),
          h(
            "ul",
            { class: "ag-items" },
            found.map(({ item, e }) => {
              const d = describe(item, this.store, tz);
              const button = h(
                "button",
                {
                  type: "button",
                  class: `ag-item cal-${this.store.colors.get(item.calendar_id) ?? 0} status-${item.status}${e <= now ? " past" : ""}${d.block ? " is-block" : ""}`,
                  dataset: { id: item.id, status: item.status },
                },
                h("span", { class: "ag-time" }, d.time),
                " ",
                h(
                  "span",
                  { class: "ag-main" },
                  h("span", { class: "ag-title" }, d.title),
                  d.who ? [" ", h("span", { class: "ag-who" }, d.who)] : null,
                  d.zone ? [" ", h("span", { class: "ag-zone" }, d.zone)] : null,
                ),
                " ",
                h("span", { class: "ag-status" }, d.shownStatus, d.series ? [" ", h("span", { class: "ag-series" }, `↻ ${RECURRING}`)] : null),
                " ",
                h("span", { class: "ag-cal" }, h("span", { class: "chip", "aria-hidden": "true" }), d.calendar?.name || ""),
              );
              button.addEventListener("click", () => this.handlers.open(this.store.get(item.id) || item));
              if (live?.has(item.id)) highlight(button);
              return h("li", {}, button);
            }),
          ),
        ),
      );
    }
    const list = h("ol", { class: "agenda", "aria-label": "Agenda" }, days);
    const empty = days.length ? null : h("p", { class: "ag-empty" }, `Nothing booked from ${F.day(period.days[0])} to ${F.longDay(period.days[period.days.length - 1])}.`);
    const box = h("div", { class: "agenda-box" }, list, empty);
    if (this.el?.isConnected) this.el.replaceWith(box);
    this.el = box;
    return box;
  }

  update(changes) {
    const live = new Set(changes.filter((c) => c.origin === "live" && c.after).map((c) => c.after.id));
    const focused = document.activeElement?.closest?.(".ag-item")?.dataset.id;
    this.render(live);
    if (focused) this.el.querySelector(`.ag-item[data-id="${focused}"]`)?.focus();
  }

  relabel() {
    this.render();
  }
}
