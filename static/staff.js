// The staff dashboard: day and week views of one or several calendars, live.
//
// State lives in a few maps; every change (snapshot, event, answer) updates
// them and calls renderBlocks(), which reuses one element per appointment
// and day so that a moved block slides and a changed one flashes.

import { randomKey } from "./hub-client.js";
import { STATUS_LABELS, $, debounce, describeError, flash, h, show } from "./ui.js";
import * as Z from "./zoned.js";

const HOUR_PX = 48;
const DAY_PX = HOUR_PX * 24;
const SNAP_MINUTES = 15;
const COLORS = ["#2563eb", "#d97706", "#0d9488", "#7c3aed", "#db2777", "#65a30d", "#0891b2", "#dc2626"];
const ACTIVE = new Set(["pending", "confirmed"]);

export async function startStaff(context) {
  const view = new StaffView(context);
  await view.init();
  return view;
}

class StaffView {
  constructor({ hub, user }) {
    this.hub = hub;
    this.user = user;
    this.calendars = new Map();
    this.colors = new Map();
    this.selected = [];
    this.view = window.matchMedia("(max-width: 720px)").matches ? "day" : "week";
    this.tz = "UTC";
    this.anchor = null;
    this.range = null; // {days, from: Date, to: Date}
    this.appts = new Map(); // calendar id -> Map(appointment id -> appointment)
    this.subs = new Map(); // calendar id -> Subscription
    this.users = new Map();
    this.changed = new Set();
    this.blocks = new Map(); // "id@day" -> element
    this.lanes = new Map(); // "calendar@day" -> lane element
    this.quiet = new Set(); // calendars whose next snapshot is a new view, not a correction
    this.openId = null;
    this.moveDirty = false;
    this.lastCreate = null;
    this.timers = [];
    this.cleanups = [];
    this.refreshUsersSoon = debounce(() => this.loadUsers(), 1500);
  }

  async init() {
    const { calendars } = await this.hub.request("calendars.list");
    calendars.forEach((c, i) => {
      this.calendars.set(c.id, c);
      this.colors.set(c.id, COLORS[i % COLORS.length]);
    });
    const params = new URLSearchParams(location.search);
    const wanted = (params.get("calendars") || sessionStorage.getItem("hub.staff.calendars") || "")
      .split(",")
      .filter((id) => this.calendars.has(id));
    const active = calendars.filter((c) => c.is_active);
    this.selected = wanted.length ? wanted : (active.length <= 3 ? active : active.slice(0, 1)).map((c) => c.id);
    if (params.get("view") === "day" || params.get("view") === "week") this.view = params.get("view");
    this.showCancelled = params.get("cancelled") !== "hide";
    $("#show-cancelled").checked = this.showCancelled;
    const zones = this.zones();
    this.tz = zones.includes(params.get("tz")) ? params.get("tz") : zones[0] || "UTC";
    this.anchor = Z.parseDayKey(params.get("date") || "") || Z.today(this.tz);
    this.bindControls();
    this.loadUsers();
    this.renderPicks();
    this.applyRange({ scroll: true });
    for (const id of this.selected) this.follow(id);
    this.timers.push(setInterval(() => this.renderNow(), 30_000));
    if (!calendars.length) this.notice("There are no calendars yet. An admin creates them with calendar.create.", "info");
  }

  stop() {
    for (const timer of this.timers) clearInterval(timer);
    for (const sub of this.subs.values()) sub.unsubscribe();
    for (const undo of this.cleanups) undo();
    this.subs.clear();
  }

  // Data

  async loadUsers() {
    try {
      const { users } = await this.hub.request("users.list", {});
      for (const u of users) this.users.set(u.id, u);
      this.renderBlocks();
    } catch (error) {
      console.warn("users.list", error);
    }
  }

  follow(calendarId) {
    this.quiet.add(calendarId);
    const sub = this.hub.subscribe(`calendar:${calendarId}`, {
      from: this.range.from.toISOString(),
      to: this.range.to.toISOString(),
      onSnapshot: (list) => this.onSnapshot(calendarId, list),
      onEvent: (event) => this.onEvent(calendarId, event),
      onError: (error) => this.notice(describeError(error), "error"),
    });
    this.subs.set(calendarId, sub);
  }

  unfollow(calendarId) {
    this.subs.get(calendarId)?.unsubscribe();
    this.subs.delete(calendarId);
    this.appts.delete(calendarId);
  }

  onSnapshot(calendarId, list) {
    const before = this.appts.get(calendarId);
    const now = new Map(list.map((a) => [a.id, a]));
    const quiet = this.quiet.delete(calendarId);
    if (before && !quiet) {
      // After a reconnect or a correction: highlight what differs from what we showed.
      for (const [id, a] of now) if (before.get(id)?.version !== a.version) this.changed.add(id);
    }
    this.appts.set(calendarId, now);
    this.renderBlocks();
    if (this.openId && now.has(this.openId) && before?.get(this.openId)?.version !== now.get(this.openId).version) {
      this.fillDetails(true);
    }
  }

  onEvent(calendarId, event) {
    document.body.dataset.events = String(Number(document.body.dataset.events || 0) + 1);
    if (event.event === "calendar.updated") {
      this.calendars.set(calendarId, event.data);
      this.renderPicks();
      this.renderGrid();
      return;
    }
    const appointment = event.data;
    this.put(appointment);
    this.changed.add(appointment.id);
    if (appointment.client_id && !this.users.has(appointment.client_id)) this.refreshUsersSoon();
    this.renderBlocks();
    if (this.openId === appointment.id) this.fillDetails(true);
  }

  /** Hold an appointment when it lies in the shown range, newest version wins. */
  put(appointment, force = false) {
    const map = this.appts.get(appointment.calendar_id);
    if (!map) return;
    const held = map.get(appointment.id);
    if (!force && held && held.version > appointment.version) return;
    const inRange = Date.parse(appointment.starts_at) < this.range.to && Date.parse(appointment.ends_at) > this.range.from;
    if (inRange) map.set(appointment.id, appointment);
    else map.delete(appointment.id);
  }

  find(id) {
    for (const map of this.appts.values()) if (map.has(id)) return map.get(id);
    return null;
  }

  /** Show the truth again after a refused write. */
  correct(calendarId) {
    this.subs.get(calendarId)?.resync().catch(() => {});
  }

  zones() {
    return [...new Set(this.selected.map((id) => this.calendars.get(id)?.timezone).filter(Boolean))];
  }

  // Controls

  bindControls() {
    const on = (selector, type, fn) => {
      const element = $(selector);
      element.addEventListener(type, fn);
      this.cleanups.push(() => element.removeEventListener(type, fn));
    };
    on("#view-day", "click", () => this.setView("day"));
    on("#view-week", "click", () => this.setView("week"));
    on("#nav-prev", "click", () => this.move(-1));
    on("#nav-next", "click", () => this.move(1));
    on("#nav-today", "click", () => {
      this.anchor = Z.today(this.tz);
      this.applyRange({ scroll: true });
    });
    on("#nav-date", "change", (event) => {
      const day = Z.parseDayKey(event.target.value);
      if (day) {
        this.anchor = day;
        this.applyRange();
      }
    });
    on("#view-tz", "change", (event) => {
      this.tz = event.target.value;
      this.applyRange({ scroll: true });
    });
    on("#new-appt", "click", () => this.openNew(null, null));
    on("#show-cancelled", "change", (event) => {
      this.showCancelled = event.target.checked;
      this.renderBlocks();
      this.saveUrl();
    });
    on("#grid", "click", (event) => this.onGridClick(event));
    on("#appt-actions", "click", (event) => {
      const action = event.target.closest("button[data-action]")?.dataset.action;
      if (action) this.act(action);
    });
    on("#move-save", "click", () => this.reschedule());
    on("#appt-form", "submit", (event) => {
      // Enter in a time field saves the new time; only the ✕ button closes.
      if (event.submitter?.value === "close") return;
      event.preventDefault();
      if (!$("#appt-move").hidden) this.reschedule();
    });
    for (const id of ["#move-date", "#move-start", "#move-end"]) on(id, "input", () => (this.moveDirty = true));
    on("#appt-dialog", "close", () => {
      this.openId = null;
    });
    on("#new-form", "submit", (event) => {
      event.preventDefault();
      this.create();
    });
    on("#new-close", "click", () => $("#new-dialog").close());
    on("#new-cancel", "click", () => $("#new-dialog").close());
    on("#new-calendar", "change", () => this.showNewZone());
    const search = debounce(() => this.searchClients($("#new-client-search").value.trim()), 250);
    on("#new-client-search", "input", search);
    on("#new-client-search", "keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter searches now; it does not submit the booking
      this.searchClients(event.target.value.trim());
    });
  }

  setView(view) {
    this.view = view;
    this.applyRange({ scroll: true });
  }

  move(step) {
    this.anchor = Z.addDays(this.anchor, step * (this.view === "week" ? 7 : 1));
    this.applyRange();
  }

  renderPicks() {
    const box = $("#calendar-picks");
    box.replaceChildren(
      ...[...this.calendars.values()].map((c) => {
        const input = h("input", {
          type: "checkbox",
          value: c.id,
          checked: this.selected.includes(c.id),
          onchange: (event) => this.toggleCalendar(c.id, event.target.checked),
        });
        return h(
          "label",
          { class: "pick", title: `${c.name} (${c.timezone})` },
          input,
          h("span", { class: "chip", style: { background: this.colors.get(c.id) } }),
          h("span", { class: "pick-name" }, c.name),
          h("small", {}, ` ${c.timezone}${c.is_active ? "" : " · inactive"}`),
        );
      }),
    );
  }

  toggleCalendar(id, on) {
    if (on && !this.selected.includes(id)) {
      this.selected.push(id);
      this.follow(id);
    } else if (!on) {
      this.selected = this.selected.filter((x) => x !== id);
      this.unfollow(id);
    }
    const zones = this.zones();
    if (!zones.includes(this.tz)) this.tz = zones[0] || "UTC";
    this.applyRange({ scroll: true });
  }

  /** Recompute the shown days, re-snapshot every followed calendar, redraw. */
  applyRange({ scroll = false } = {}) {
    const first = this.view === "week" ? Z.startOfWeek(this.anchor) : this.anchor;
    const count = this.view === "week" ? 7 : 1;
    const days = Array.from({ length: count }, (_, i) => Z.addDays(first, i));
    const from = Z.zonedTime(days[0], 0, 0, this.tz);
    const to = Z.zonedTime(Z.addDays(days[count - 1], 1), 0, 0, this.tz);
    const changed = !this.range || +from !== +this.range.from || +to !== +this.range.to;
    this.range = { days, from, to };
    if (changed) {
      for (const [id, sub] of this.subs) {
        this.quiet.add(id); // a new range: no highlight storm
        sub.setRange(from.toISOString(), to.toISOString()).catch(() => {});
      }
    }
    this.renderToolbar();
    this.renderGrid();
    if (scroll) this.scrollToWork();
    this.saveUrl();
  }

  saveUrl() {
    const params = new URLSearchParams(location.search);
    params.set("calendars", this.selected.join(","));
    params.set("view", this.view);
    params.set("date", Z.dayKey(this.anchor));
    params.set("tz", this.tz);
    if (this.showCancelled) params.delete("cancelled");
    else params.set("cancelled", "hide");
    sessionStorage.setItem("hub.staff.calendars", this.selected.join(","));
    history.replaceState(null, "", `${location.pathname}?${params}${location.hash}`);
  }

  renderToolbar() {
    $("#view-day").setAttribute("aria-pressed", String(this.view === "day"));
    $("#view-week").setAttribute("aria-pressed", String(this.view === "week"));
    $("#nav-date").value = Z.dayKey(this.anchor);
    const zones = this.zones();
    const select = $("#view-tz");
    select.replaceChildren(...(zones.length ? zones : ["UTC"]).map((z) => h("option", { value: z, selected: z === this.tz }, z)));
    const { days } = this.range;
    $("#range-title").textContent =
      days.length === 1 ? Z.formatLongDay(days[0]) : `${Z.formatDay(days[0])} – ${Z.formatDay(days[days.length - 1])} ${days[6].y}`;
  }

  // Grid

  renderGrid() {
    const grid = $("#grid");
    const { days } = this.range;
    const lanes = this.selected.map((id) => this.calendars.get(id)).filter(Boolean);
    grid.dataset.view = this.view;
    grid.style.setProperty("--cols", String(days.length));
    grid.style.setProperty("--lanes", String(Math.max(1, lanes.length)));
    this.blocks.clear();
    this.lanes.clear();
    const today = Z.today(this.tz);
    const head = [h("div", { class: "corner" }, h("span", { class: "tz-note" }, Z.zoneAbbreviation(this.range.from, this.tz)))];
    for (const day of days) {
      head.push(
        h(
          "div",
          { class: `day-head${Z.sameDay(day, today) ? " today" : ""}`, dataset: { day: Z.dayKey(day) } },
          h("span", { class: "day-name" }, Z.formatDay(day)),
          lanes.length > 1
            ? h(
                "span",
                { class: "lane-heads" },
                lanes.map((c) =>
                  h("span", { class: "lane-head", title: c.name, style: { borderColor: this.colors.get(c.id) } }, c.name),
                ),
              )
            : null,
        ),
      );
    }
    const hours = h(
      "div",
      { class: "hours", "aria-hidden": "true" },
      Array.from({ length: 24 }, (_, i) => h("span", { style: { top: `${i * HOUR_PX}px` } }, `${String(i).padStart(2, "0")}:00`)),
    );
    const columns = days.map((day) => {
      const start = Z.zonedTime(day, 0, 0, this.tz);
      const end = Z.zonedTime(Z.addDays(day, 1), 0, 0, this.tz);
      const column = h("div", {
        class: `day-col${Z.sameDay(day, today) ? " today" : ""}`,
        dataset: { day: Z.dayKey(day), start: String(+start), end: String(+end) },
      });
      for (const calendar of lanes) {
        const lane = h("div", {
          class: "lane",
          dataset: { calendar: calendar.id, day: Z.dayKey(day), start: String(+start), end: String(+end) },
          "aria-label": `${calendar.name}, ${Z.formatDay(day)}`,
        });
        for (const [a, b] of this.openHours(calendar, start, end)) {
          lane.append(h("div", { class: "open", style: { top: `${this.y(a, start, end)}px`, height: `${this.y(b, start, end) - this.y(a, start, end)}px` } }));
        }
        if (!calendar.is_active) lane.classList.add("inactive");
        column.append(lane);
        this.lanes.set(`${calendar.id}@${Z.dayKey(day)}`, lane);
      }
      if (!lanes.length) column.append(h("div", { class: "lane empty" }));
      column.append(h("div", { class: "now-line", hidden: true, "aria-hidden": "true" }));
      return column;
    });
    grid.replaceChildren(...head, hours, ...columns);
    this.renderBlocks();
    this.renderNow();
    if (!lanes.length) this.notice("Pick at least one calendar above.", "info");
  }

  /** Working hours of a calendar (in its own zone) that fall in [start, end). */
  openHours(calendar, start, end) {
    const out = [];
    const tz = calendar.timezone;
    const center = Z.dayOf(new Date((+start + +end) / 2), tz);
    for (let offset = -1; offset <= 1; offset++) {
      const day = Z.addDays(center, offset);
      const weekday = Z.weekday(day);
      for (const range of calendar.working_hours || []) {
        if (range.weekday !== weekday) continue;
        const [sh, sm] = Z.parseHHMM(range.start);
        const [eh, em] = Z.parseHHMM(range.end);
        const a = Math.max(+Z.zonedTime(day, sh, sm, tz), +start);
        const b = Math.min(+Z.zonedTime(day, eh, em, tz), +end);
        if (a < b) out.push([a, b]);
      }
    }
    return out;
  }

  /** Pixels from the top of a day column for an instant (ms). */
  y(ms, start, end) {
    return ((ms - start) / (end - start)) * DAY_PX;
  }

  renderBlocks() {
    if (!this.range) return;
    const seen = new Set();
    for (const [key, lane] of this.lanes) {
      const [calendarId] = key.split("@");
      const start = Number(lane.dataset.start);
      const end = Number(lane.dataset.end);
      const items = [...(this.appts.get(calendarId)?.values() || [])]
        .map((a) => ({ a, s: Date.parse(a.starts_at), e: Date.parse(a.ends_at) }))
        .filter((x) => x.s < end && x.e > start && (this.showCancelled || x.a.status !== "cancelled"))
        .sort((p, q) => p.s - q.s || ACTIVE.has(q.a.status) - ACTIVE.has(p.a.status));
      layoutColumns(items);
      for (const item of items) {
        const blockKey = `${item.a.id}@${lane.dataset.day}`;
        seen.add(blockKey);
        let block = this.blocks.get(blockKey);
        const fresh = !block;
        if (fresh) {
          block = h("button", { type: "button", class: "appt" });
          block.addEventListener("click", (event) => {
            event.stopPropagation();
            this.openDetails(block.dataset.id);
          });
          this.blocks.set(blockKey, block);
        }
        if (block.parentElement !== lane) lane.append(block);
        this.drawBlock(block, item, start, end);
        if (this.changed.has(item.a.id)) flash(block);
      }
    }
    for (const [key, block] of this.blocks) {
      if (!seen.has(key)) {
        block.remove();
        this.blocks.delete(key);
      }
    }
    this.changed.clear();
  }

  drawBlock(block, { a, s, e, col, cols }, start, end) {
    const top = this.y(Math.max(s, start), start, end);
    const bottom = this.y(Math.min(e, end), start, end);
    const client = this.users.get(a.client_id);
    const who = client ? client.full_name || client.email : "";
    const time = `${Z.hhmm(new Date(s), this.tz)}–${Z.hhmm(new Date(e), this.tz)}`;
    const narrow = this.view === "week" && this.selected.length > 1;
    const height = Math.max(16, bottom - top - 1);
    const flashing = block.classList.contains("flash") ? " flash" : "";
    block.className = `appt status-${a.status}${height < 34 ? " short" : height < 60 ? " medium" : ""}${flashing}`;
    block.dataset.id = a.id;
    block.dataset.status = a.status;
    block.dataset.calendar = a.calendar_id;
    block.dataset.startsAt = a.starts_at;
    block.dataset.endsAt = a.ends_at;
    block.dataset.version = String(a.version);
    block.style.top = `${top}px`;
    block.style.height = `${height}px`;
    block.style.left = `${(col / cols) * 100}%`;
    block.style.width = `calc(${100 / cols}% - 2px)`;
    block.style.setProperty("--cal", this.colors.get(a.calendar_id));
    const label = `${time} ${a.title || "busy"}${who ? `, ${who}` : ""}, ${STATUS_LABELS[a.status]}`;
    block.setAttribute("aria-label", label);
    block.title = `${label} · ${this.calendars.get(a.calendar_id)?.name || ""}`;
    block.replaceChildren(
      h("span", { class: "appt-time" }, narrow || height < 34 ? Z.hhmm(new Date(s), this.tz) : time),
      h("span", { class: "appt-title" }, `${a.title || "busy"}${who && !narrow && height < 60 ? ` · ${who}` : ""}`),
      who ? h("span", { class: "appt-who" }, who) : null,
      h("span", { class: "appt-status" }, STATUS_LABELS[a.status]),
    );
  }

  renderNow() {
    const now = Date.now();
    for (const column of document.querySelectorAll("#grid .day-col")) {
      const line = column.querySelector(".now-line");
      const start = Number(column.dataset.start);
      const end = Number(column.dataset.end);
      const inside = now >= start && now < end;
      line.hidden = !inside;
      if (inside) {
        line.style.top = `${this.y(now, start, end)}px`;
        line.title = `now, ${Z.hhmm(new Date(now), this.tz)}`;
      }
    }
  }

  /** Scroll to a little before now when today is shown, else to the first working hour. */
  scrollToWork() {
    const scroller = $("#grid-scroll");
    const now = Date.now();
    let target;
    if (now >= this.range.from && now < this.range.to) {
      const column = [...document.querySelectorAll("#grid .day-col")].find(
        (c) => now >= Number(c.dataset.start) && now < Number(c.dataset.end),
      );
      if (column) target = this.y(now, Number(column.dataset.start), Number(column.dataset.end)) - 1.5 * HOUR_PX;
    }
    if (target === undefined) {
      const tops = [...document.querySelectorAll("#grid .open")].map((e) => parseFloat(e.style.top) || 0);
      target = (tops.length ? Math.min(...tops) : 8 * HOUR_PX) - HOUR_PX / 2;
    }
    scroller.scrollTop = Math.max(0, target);
  }

  onGridClick(event) {
    const lane = event.target.closest(".lane");
    if (!lane || event.target.closest(".appt") || lane.classList.contains("empty")) return;
    const rect = lane.getBoundingClientRect();
    const start = Number(lane.dataset.start);
    const end = Number(lane.dataset.end);
    const at = start + ((event.clientY - rect.top) / DAY_PX) * (end - start);
    const step = SNAP_MINUTES * 60_000;
    const snapped = start + Math.floor((at - start) / step) * step;
    this.openNew(lane.dataset.calendar, new Date(snapped));
  }

  // Messages

  notice(text, kind = "ok") {
    const banner = $("#staff-msg");
    banner.textContent = text;
    banner.dataset.kind = kind;
    show(banner, true);
    clearTimeout(this.noticeTimer);
    if (kind !== "error") this.noticeTimer = setTimeout(() => show(banner, false), 6000);
  }

  // One appointment

  openDetails(id) {
    this.openId = id;
    this.moveDirty = false;
    $("#appt-msg").textContent = "";
    this.fillDetails(false);
    const dialog = $("#appt-dialog");
    if (!dialog.open) dialog.showModal();
  }

  fillDetails(changed) {
    const a = this.find(this.openId);
    if (!a) return;
    const calendar = this.calendars.get(a.calendar_id);
    const tz = calendar?.timezone || this.tz;
    const start = new Date(a.starts_at);
    const end = new Date(a.ends_at);
    const client = this.users.get(a.client_id);
    $("#appt-dialog").dataset.id = a.id;
    $("#appt-title").textContent = a.title || "Busy";
    const badge = $("#appt-status");
    badge.className = `badge status-${a.status}`;
    badge.textContent = STATUS_LABELS[a.status];
    show($("#appt-changed"), changed);
    $("#appt-when").textContent =
      `${Z.formatDay(Z.dayOf(start, tz))}, ${Z.hhmm(start, tz)}–${Z.hhmm(end, tz)} (${tz})` +
      (tz !== this.tz ? ` · ${Z.hhmm(start, this.tz)}–${Z.hhmm(end, this.tz)} ${this.tz}` : "");
    $("#appt-calendar").textContent = calendar?.name || a.calendar_id;
    $("#appt-client").textContent = client ? `${client.full_name} <${client.email}>` : a.client_id || "—";
    $("#appt-notes").textContent = a.notes || "—";
    const can = {
      confirmed: a.status === "pending",
      completed: a.status === "confirmed",
      no_show: a.status === "confirmed",
      cancel: ACTIVE.has(a.status),
    };
    for (const button of document.querySelectorAll("#appt-actions button")) {
      show(button, can[button.dataset.action]);
    }
    show($("#appt-move"), ACTIVE.has(a.status));
    $("#appt-move-tz").textContent = `(times in ${tz})`;
    if (!this.moveDirty) {
      $("#move-date").value = Z.dayKey(Z.dayOf(start, tz));
      $("#move-start").value = Z.hhmm(start, tz);
      $("#move-end").value = Z.hhmm(end, tz);
    }
  }

  async act(action) {
    const a = this.find(this.openId);
    if (!a) return;
    const request =
      action === "cancel"
        ? ["appointment.cancel", { appointment_id: a.id, version: a.version }]
        : ["appointment.set_status", { appointment_id: a.id, status: action, version: a.version }];
    const done = { confirmed: "Confirmed", completed: "Completed", no_show: "Marked as no-show", cancel: "Cancelled" }[action];
    await this.write(a, request, done);
  }

  async reschedule() {
    const a = this.find(this.openId);
    if (!a) return;
    const tz = this.calendars.get(a.calendar_id)?.timezone || this.tz;
    const times = readTimes($("#move-date").value, $("#move-start").value, $("#move-end").value, tz);
    if (!times) {
      $("#appt-msg").textContent = "Give a date, a start and an end, the end after the start.";
      return;
    }
    const data = { appointment_id: a.id, version: a.version, starts_at: times.start.toISOString(), ends_at: times.end.toISOString() };
    await this.write(a, ["appointment.update", data], "Rescheduled");
  }

  /** Send a write about one appointment; on refusal show why and the truth. */
  async write(a, [type, data], done) {
    const buttons = document.querySelectorAll("#appt-dialog button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const answer = await this.hub.request(type, data);
      this.put(answer.appointment);
      this.changed.add(a.id);
      this.renderBlocks();
      $("#appt-dialog").close();
      const t = new Date(answer.appointment.starts_at);
      this.notice(`${done}: ${answer.appointment.title} at ${Z.hhmm(t, this.tz)}, ${Z.formatDay(Z.dayOf(t, this.tz))}.`);
    } catch (error) {
      const current = error.details?.current;
      if (current) this.put(current, true);
      this.moveDirty = false;
      this.fillDetails(Boolean(current));
      const extra = current ? " The dialog now shows the current version; check it and try again." : " The calendar shows the current state.";
      $("#appt-msg").textContent = describeError(error) + extra;
      this.notice(describeError(error), "error");
      this.correct(a.calendar_id);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  // New appointment

  openNew(calendarId, at) {
    const calendars = [...this.calendars.values()].filter((c) => c.is_active);
    if (!calendars.length) {
      this.notice("There is no active calendar to book on.", "error");
      return;
    }
    const id = calendarId || this.selected.find((x) => this.calendars.get(x)?.is_active) || calendars[0].id;
    $("#new-calendar").replaceChildren(
      ...calendars.map((c) => h("option", { value: c.id, selected: c.id === id }, `${c.name} (${c.timezone})`)),
    );
    let start = at;
    if (!start) {
      const step = SNAP_MINUTES * 60_000;
      start = new Date(Math.ceil(Date.now() / step) * step);
    }
    const tz = this.calendars.get(id).timezone;
    const end = new Date(+start + 30 * 60_000);
    $("#new-date").value = Z.dayKey(Z.dayOf(start, tz));
    $("#new-start").value = Z.hhmm(start, tz);
    $("#new-end").value = Z.hhmm(end, tz);
    $("#new-msg").textContent = "";
    $("#new-client-search").value = "";
    this.fillClients([...this.users.values()]);
    this.showNewZone();
    const dialog = $("#new-dialog");
    if (!dialog.open) dialog.showModal();
    $("#new-client-search").focus();
  }

  showNewZone() {
    const calendar = this.calendars.get($("#new-calendar").value);
    $("#new-tz").textContent = calendar ? `Times in ${calendar.timezone}.` : "";
  }

  async searchClients(query) {
    const asked = (this.searches = (this.searches || 0) + 1);
    try {
      const { users } = await this.hub.request("users.list", query ? { query } : {});
      for (const u of users) this.users.set(u.id, u);
      if (asked === this.searches) this.fillClients(users); // a later search wins
    } catch (error) {
      $("#new-msg").textContent = describeError(error);
    }
  }

  fillClients(users) {
    const sorted = [...users].sort(
      (a, b) => (a.role === "user" ? 0 : 1) - (b.role === "user" ? 0 : 1) || a.full_name.localeCompare(b.full_name),
    );
    const select = $("#new-client");
    select.replaceChildren(
      ...sorted.filter((u) => u.is_active !== false).map((u) =>
        h("option", { value: u.id }, `${u.full_name} — ${u.email}${u.role === "user" ? "" : ` (${u.role})`}`),
      ),
    );
    if (select.options.length === 1) select.selectedIndex = 0;
  }

  async create() {
    const calendarId = $("#new-calendar").value;
    const calendar = this.calendars.get(calendarId);
    const times = calendar && readTimes($("#new-date").value, $("#new-start").value, $("#new-end").value, calendar.timezone);
    const message = $("#new-msg");
    if (!times) {
      message.textContent = "Give a date, a start and an end, the end after the start.";
      return;
    }
    if (!$("#new-client").value) {
      message.textContent = "Pick the client: search by name or email, then choose one.";
      $("#new-client-search").focus();
      return;
    }
    const data = {
      calendar_id: calendarId,
      starts_at: times.start.toISOString(),
      ends_at: times.end.toISOString(),
      title: $("#new-title-input").value.trim() || "Appointment",
      client_id: $("#new-client").value,
    };
    const notes = $("#new-notes").value.trim();
    if (notes) data.notes = notes;
    // The same form sent again (e.g. after a dropped connection) reuses its key.
    const fingerprint = JSON.stringify(data);
    if (this.lastCreate?.fingerprint !== fingerprint) this.lastCreate = { fingerprint, key: randomKey() };
    data.idempotency_key = this.lastCreate.key;
    message.textContent = "Booking…";
    $("#new-submit").disabled = true;
    try {
      const { appointment } = await this.hub.request("appointment.create", data);
      this.lastCreate = null;
      this.put(appointment);
      this.changed.add(appointment.id);
      this.renderBlocks();
      $("#new-dialog").close();
      this.notice(`Booked: ${appointment.title} at ${Z.hhmm(times.start, this.tz)}, ${Z.formatDay(Z.dayOf(times.start, this.tz))}.`);
    } catch (error) {
      this.lastCreate = error.code === "connection_lost" ? this.lastCreate : null;
      const extra = error.code === "slot_taken" ? " The calendar now shows what is booked there; pick another time." : "";
      message.textContent = describeError(error) + extra;
      this.notice(describeError(error), "error");
      this.correct(calendarId);
    } finally {
      $("#new-submit").disabled = false;
    }
  }
}

/** Date and times typed in a calendar's zone → instants, or null when unusable. */
function readTimes(dateText, startText, endText, tz) {
  const day = Z.parseDayKey(dateText);
  const a = Z.parseHHMM(startText);
  const b = Z.parseHHMM(endText);
  if (!day || !a || !b) return null;
  const start = Z.zonedTime(day, a[0], a[1], tz);
  let end = Z.zonedTime(day, b[0], b[1], tz);
  if (+end <= +start) end = Z.zonedTime(Z.addDays(day, 1), b[0], b[1], tz); // ends after midnight
  if (+end - +start > 12 * 3600_000) return null;
  return { start, end };
}

/** Side-by-side columns for overlapping blocks (sets col and cols on each item). */
function layoutColumns(items) {
  let group = [];
  let groupEnd = -Infinity;
  const flush = () => {
    const ends = [];
    for (const item of group) {
      let col = ends.findIndex((e) => e <= item.s);
      if (col < 0) {
        col = ends.length;
        ends.push(item.e);
      } else ends[col] = item.e;
      item.col = col;
    }
    for (const item of group) item.cols = Math.max(1, ends.length);
    group = [];
  };
  for (const item of items) {
    if (item.s >= groupEnd && group.length) flush();
    group.push(item);
    groupEnd = group.length === 1 ? item.e : Math.max(groupEnd, item.e);
  }
  if (group.length) flush();
}
