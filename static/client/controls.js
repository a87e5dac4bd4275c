// "Calendar", "Length" and "Time zone": what the free times are of, and the
// clock they are shown on.

import { h } from "../ui.js";
import * as Z from "./zones.js";

const LENGTHS = [15, 30, 45, 60, 90];

export class Controls {
  constructor(root, store, actions) {
    this.store = store;
    this.actions = actions;
    this.calendar = h("select", { id: "cp-calendar" });
    this.length = h("select", { id: "cp-length" });
    this.zone = h("select", { id: "cp-zone" });
    this.calendar.addEventListener("change", () => actions.chooseCalendar(this.calendar.value));
    this.length.addEventListener("change", () => actions.chooseLength(Number(this.length.value)));
    this.zone.addEventListener("change", () => actions.chooseZone(this.zone.value));
    root.replaceChildren(
      h("div", { class: "cp-field" }, h("label", { for: "cp-calendar" }, "Calendar"), this.calendar),
      h("div", { class: "cp-field" }, h("label", { for: "cp-length" }, "Length"), this.length),
      h("div", { class: "cp-field cp-field-zone" }, h("label", { for: "cp-zone" }, "Time zone"), this.zone),
    );
    this.shown = {};
    store.subscribe((state) => this.render(state));
    this.render(store.get());
  }

  render(state) {
    if (state.calendars !== this.shown.calendars) {
      this.shown.calendars = state.calendars;
      this.calendar.replaceChildren(...state.calendars.map((c) => h("option", { value: c.id }, c.name)));
    }
    this.calendar.value = state.calendarId || "";
    // Rescheduling keeps the appointment's calendar and length.
    this.calendar.disabled = Boolean(state.moving);
    this.length.disabled = Boolean(state.moving);
    const lengths = [...new Set([...LENGTHS, state.duration])].sort((a, b) => a - b);
    if (lengths.join() !== this.shown.lengths) {
      this.shown.lengths = lengths.join();
      this.length.replaceChildren(...lengths.map((m) => h("option", { value: String(m) }, lengthText(m))));
    }
    this.length.value = String(state.duration);
    const first = [state.zone, Z.browserZone(), ...state.calendars.map((c) => c.timezone)];
    const zonesKey = first.join();
    if (zonesKey !== this.shown.zones) {
      this.shown.zones = zonesKey;
      const now = Date.now();
      const top = new Set(first);
      // Only the likely zones get an abbreviation: formatting all 400-odd would stall the page.
      const label = (zone) => zone.replaceAll("_", " ") + (top.has(zone) ? ` (${Z.zoneAbbr(now, zone)})` : "");
      this.zone.replaceChildren(...Z.zoneChoices(first).map((zone) => h("option", { value: zone }, label(zone))));
    }
    this.zone.value = state.zone;
  }
}

/** "30 minutes", "1 hour", "1 hour 30 minutes". */
export function lengthText(minutes) {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const parts = [];
  if (hours) parts.push(`${hours} hour${hours === 1 ? "" : "s"}`);
  if (rest) parts.push(`${rest} minutes`);
  return parts.join(" ");
}
