// The client page: free times of a calendar for a day, booking, and one's own
// appointments with their status changing live.

import { randomKey } from "./hub-client.js";
import { STATUS_LABELS, $, debounce, describeError, flash, h } from "./ui.js";
import * as Z from "./zoned.js";

const ACTIVE = new Set(["pending", "confirmed"]);
const PAST_SHOWN = 10;

export async function startClient(context) {
  const view = new ClientView(context);
  await view.init();
  return view;
}

class ClientView {
  constructor({ hub, user }) {
    this.hub = hub;
    this.user = user;
    this.calendars = new Map();
    this.calendarId = null;
    this.day = null;
    this.slots = [];
    this.choice = null; // {starts_at, ends_at}
    this.mine = new Map();
    this.changed = new Set();
    this.calendarSub = null;
    this.cleanups = [];
    this.armed = null; // appointment id whose Cancel was pressed once
    this.loadSlotsSoon = debounce(() => this.loadSlots(), 250);
  }

  async init() {
    const { calendars } = await this.hub.request("calendars.list");
    for (const c of calendars) if (c.is_active) this.calendars.set(c.id, c);
    const select = $("#book-calendar");
    select.replaceChildren(...[...this.calendars.values()].map((c) => h("option", { value: c.id }, c.name)));
    const remembered = sessionStorage.getItem("hub.client.calendar");
    const wanted = new URLSearchParams(location.search).get("calendar") || remembered;
    this.calendarId = this.calendars.has(wanted) ? wanted : select.options[0]?.value || null;
    select.value = this.calendarId || "";
    this.bind();
    this.hub.subscribe(`user:${this.user.id}`, {
      onSnapshot: (list) => {
        const before = this.mine;
        this.mine = new Map(list.map((a) => [a.id, a]));
        if (before.size) for (const [id, a] of this.mine) if (before.get(id)?.version !== a.version) this.changed.add(id);
        this.renderMine();
      },
      onEvent: (event) => {
        const held = this.mine.get(event.data.id);
        if (!held || held.version <= event.data.version) this.mine.set(event.data.id, event.data);
        this.changed.add(event.data.id);
        this.renderMine();
      },
      onError: (error) => ($("#mine-msg").textContent = describeError(error)),
    });
    if (!this.calendarId) {
      $("#book-msg").textContent = "No calendar is taking bookings yet.";
      return;
    }
    this.selectCalendar(this.calendarId);
  }

  stop() {
    for (const undo of this.cleanups) undo();
    this.calendarSub?.unsubscribe();
  }

  bind() {
    const on = (selector, type, fn) => {
      const element = $(selector);
      element.addEventListener(type, fn);
      this.cleanups.push(() => element.removeEventListener(type, fn));
    };
    on("#book-calendar", "change", (event) => this.selectCalendar(event.target.value));
    on("#book-day", "change", (event) => {
      const day = Z.parseDayKey(event.target.value);
      if (day) {
        this.day = day;
        this.followCalendar();
      }
    });
    on("#book-duration", "change", () => this.loadSlots());
    on("#slots", "click", (event) => {
      const button = event.target.closest("button.slot");
      if (button) this.choose(button.dataset.startsAt, button.dataset.endsAt);
    });
    on("#book-form", "submit", (event) => {
      event.preventDefault();
      this.book();
    });
    on("#my-appts", "click", (event) => {
      const button = event.target.closest("button[data-cancel]");
      if (button) this.cancel(button.dataset.cancel);
    });
  }

  get tz() {
    return this.calendars.get(this.calendarId)?.timezone || "UTC";
  }

  selectCalendar(id) {
    this.calendarId = id;
    sessionStorage.setItem("hub.client.calendar", id);
    const today = Z.today(this.tz);
    const input = $("#book-day");
    input.min = Z.dayKey(today);
    if (!this.day || Z.dayKey(this.day) < input.min) this.day = today;
    input.value = Z.dayKey(this.day);
    $("#book-tz").textContent = `Times are in ${this.tz} (${Z.zoneAbbreviation(new Date(), this.tz)}), the calendar's time zone.`;
    this.followCalendar();
    this.renderMine();
  }

  /** Follow the chosen calendar's day: any change there refreshes the free times. */
  followCalendar() {
    const from = Z.zonedTime(this.day, 0, 0, this.tz).toISOString();
    const to = Z.zonedTime(Z.addDays(this.day, 1), 0, 0, this.tz).toISOString();
    const channel = `calendar:${this.calendarId}`;
    if (this.calendarSub?.channel === channel && this.calendarSub.active) {
      this.calendarSub.setRange(from, to).catch(() => {});
      return;
    }
    this.calendarSub?.unsubscribe();
    this.calendarSub = this.hub.subscribe(channel, {
      from,
      to,
      onSnapshot: () => this.loadSlots(),
      onEvent: () => this.loadSlotsSoon(),
      onError: (error) => ($("#book-msg").textContent = describeError(error)),
    });
  }

  async loadSlots() {
    const calendarId = this.calendarId;
    const day = this.day;
    const duration = Number($("#book-duration").value);
    const data = {
      calendar_id: calendarId,
      from: Z.zonedTime(day, 0, 0, this.tz).toISOString(),
      to: Z.zonedTime(Z.addDays(day, 1), 0, 0, this.tz).toISOString(),
      duration_minutes: duration,
    };
    let slots;
    try {
      ({ slots } = await this.hub.request("availability.get", data));
    } catch (error) {
      $("#book-msg").textContent = describeError(error);
      return;
    }
    if (calendarId !== this.calendarId || day !== this.day) return; // a newer choice won
    this.slots = slots;
    this.renderSlots();
  }

  renderSlots() {
    const box = $("#slots");
    box.dataset.day = Z.dayKey(this.day); // which day the shown times belong to
    if (!this.slots.length) {
      box.replaceChildren(h("p", { class: "muted" }, "No free times on this day. Try another day."));
    } else {
      box.replaceChildren(
        ...this.slots.map((slot) => {
          const start = new Date(slot.starts_at);
          const chosen = this.choice?.starts_at === slot.starts_at && this.choice?.ends_at === slot.ends_at;
          return h(
            "button",
            {
              type: "button",
              class: "slot",
              "aria-pressed": String(chosen),
              dataset: { startsAt: slot.starts_at, endsAt: slot.ends_at },
              "aria-label": `${Z.hhmm(start, this.tz)} to ${Z.hhmm(new Date(slot.ends_at), this.tz)}`,
            },
            Z.hhmm(start, this.tz),
          );
        }),
      );
    }
    if (this.choice && !this.slots.some((s) => s.starts_at === this.choice.starts_at && s.ends_at === this.choice.ends_at)) {
      this.choice = null;
      $("#book-choice").textContent = "The time you picked was just taken. Pick another one.";
    }
    $("#book-submit").disabled = !this.choice;
  }

  choose(startsAt, endsAt) {
    this.choice = { starts_at: startsAt, ends_at: endsAt };
    const start = new Date(startsAt);
    $("#book-choice").textContent = `${Z.formatLongDay(Z.dayOf(start, this.tz))}, ${Z.hhmm(start, this.tz)}–${Z.hhmm(new Date(endsAt), this.tz)}`;
    $("#book-msg").textContent = "";
    this.renderSlots();
    $("#book-reason").focus();
  }

  async book() {
    if (!this.choice) return;
    const message = $("#book-msg");
    const choice = this.choice;
    const data = {
      calendar_id: this.calendarId,
      starts_at: choice.starts_at,
      ends_at: choice.ends_at,
      title: $("#book-reason").value.trim() || "Appointment",
      idempotency_key: randomKey(),
    };
    $("#book-submit").disabled = true;
    message.textContent = "Booking…";
    try {
      const { appointment } = await this.hub.request("appointment.create", data);
      this.mine.set(appointment.id, appointment);
      this.changed.add(appointment.id);
      this.renderMine();
      this.choice = null;
      $("#book-choice").textContent = "Pick a free time above.";
      const start = new Date(appointment.starts_at);
      message.textContent = `Booked ${Z.formatDay(Z.dayOf(start, this.tz))} at ${Z.hhmm(start, this.tz)}. It is ${STATUS_LABELS[appointment.status]} until the clinic confirms it.`;
      message.dataset.kind = "ok";
    } catch (error) {
      message.dataset.kind = "error";
      message.textContent =
        describeError(error) + (error.code === "slot_taken" ? " The free times below are up to date; pick another." : "");
      this.choice = error.code === "connection_lost" ? choice : null;
    }
    await this.loadSlots();
  }

  renderMine() {
    const list = $("#my-appts");
    const now = Date.now();
    const all = [...this.mine.values()];
    const upcoming = all.filter((a) => Date.parse(a.ends_at) > now).sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    const past = all
      .filter((a) => Date.parse(a.ends_at) <= now)
      .sort((a, b) => b.starts_at.localeCompare(a.starts_at))
      .slice(0, PAST_SHOWN);
    const items = [];
    if (!upcoming.length) items.push(h("li", { class: "muted empty" }, "Nothing booked ahead."));
    items.push(...upcoming.map((a) => this.item(a)));
    if (past.length) items.push(h("li", { class: "divider" }, "Earlier"), ...past.map((a) => this.item(a)));
    list.replaceChildren(...items);
    for (const id of this.changed) {
      const element = list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
      if (element) flash(element);
    }
    this.changed.clear();
  }

  item(a) {
    const calendar = this.calendars.get(a.calendar_id);
    const tz = calendar?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone;
    const start = new Date(a.starts_at);
    const end = new Date(a.ends_at);
    const armed = this.armed === a.id;
    return h(
      "li",
      { class: `mine status-${a.status}`, dataset: { id: a.id, status: a.status } },
      h(
        "div",
        { class: "mine-main" },
        h("div", { class: "mine-when" }, `${Z.formatDay(Z.dayOf(start, tz))} · ${Z.hhmm(start, tz)}–${Z.hhmm(end, tz)} `, h("small", {}, Z.zoneAbbreviation(start, tz))),
        h("div", { class: "mine-what" }, `${a.title} · ${calendar?.name || "calendar"}`),
      ),
      h("span", { class: `badge status-${a.status}` }, STATUS_LABELS[a.status]),
      ACTIVE.has(a.status) && Date.parse(a.ends_at) > Date.now()
        ? h(
            "button",
            { type: "button", class: armed ? "danger" : "quiet", dataset: { cancel: a.id }, "aria-label": armed ? "Really cancel this appointment" : `Cancel ${a.title}` },
            armed ? "Really cancel?" : "Cancel",
          )
        : null,
    );
  }

  async cancel(id) {
    const a = this.mine.get(id);
    if (!a) return;
    if (this.armed !== id) {
      this.armed = id; // a second press cancels
      this.renderMine();
      $(`#my-appts button[data-cancel="${CSS.escape(id)}"]`)?.focus();
      clearTimeout(this.armTimer);
      this.armTimer = setTimeout(() => {
        this.armed = null;
        this.renderMine();
      }, 6000);
      return;
    }
    this.armed = null;
    const message = $("#mine-msg");
    try {
      const { appointment } = await this.hub.request("appointment.cancel", { appointment_id: id, version: a.version });
      this.mine.set(id, appointment);
      this.changed.add(id);
      message.textContent = `Cancelled ${appointment.title}.`;
    } catch (error) {
      const current = error.details?.current;
      if (current) {
        this.mine.set(id, current);
        this.changed.add(id);
      }
      message.textContent = describeError(error) + (current ? " The list shows it as it is now." : "");
    }
    this.renderMine();
  }
}
