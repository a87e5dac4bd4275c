// The "Webhooks" admin screen (PROTOCOL.md "Webhooks"): add one (its signing
// secret is shown once), see each webhook's delivery log, retry now, delete.
// The log follows itself every few seconds while it is open.

import { $, fill, h, show } from "../ui.js";
import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import { confirmAction } from "./confirm.js";
import * as F from "./format.js";
import { copyText } from "./rest.js";

// The events a webhook may ask for (PROTOCOL.md); none ticked means every one.
export const EVENTS = [
  ["appointment.created", "Appointment booked"],
  ["appointment.updated", "Appointment moved or edited"],
  ["appointment.cancelled", "Appointment cancelled"],
  ["appointment.status_changed", "Status changed (confirmed, completed, no-show)"],
  ["calendar.updated", "Calendar changed"],
  ["slot.held", "Time held while someone books it"],
  ["slot.released", "Hold ended (released, expired or replaced)"],
];
const LOG_EVERY_MS = 3000;
const STATUS_WORDS = { pending: "retrying", success: "delivered", failed: "failed" };

export class WebhooksAdmin {
  constructor(store, rest, feedback) {
    this.store = store;
    this.rest = rest;
    this.feedback = feedback;
    this.logOf = null; // the webhook whose delivery log is open
    this.timer = null;
    fill($("#hook-events"), EVENTS.map(([name, words]) => h("label", { class: "inline check" }, h("input", { type: "checkbox", value: name }), words)));
    $("#hook-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    $("#hook-copy").addEventListener("click", async () => {
      const copied = await copyText($("#hook-secret").value);
      $("#hook-msg").textContent = copied ? "Copied the secret." : "This browser would not copy it: select it and copy it yourself.";
    });
    $("#hook-log-refresh").addEventListener("click", () => this.loadLog());
    window.addEventListener("hashchange", () => this.stopLog());
  }

  show() {
    const select = $("#hook-calendar");
    fill(select, h("option", { value: "" }, "All calendars"), [...this.store.calendars.values()].map((c) => h("option", { value: c.id }, c.name)));
    show($("#hook-secret-box"), false);
    $("#hook-msg").textContent = "";
    this.load();
  }

  async load() {
    let hooks;
    try {
      hooks = await this.rest.get("api/v1/webhooks");
    } catch (error) {
      fill($("#hook-list"), h("li", { class: "muted" }, explain(error)));
      return;
    }
    this.hooks = new Map(hooks.map((hook) => [hook.id, hook]));
    fill($("#hook-list"), hooks.length ? hooks.map((hook) => this.row(hook)) : h("li", { class: "muted" }, "No webhooks yet."));
    if (this.logOf && !this.hooks.has(this.logOf)) this.stopLog();
  }

  row(hook) {
    const calendar = hook.calendar_id ? this.store.calendars.get(hook.calendar_id)?.name || "one calendar" : "all calendars";
    const events = hook.events ? hook.events.join(", ") : "every event";
    const button = (label, run, danger = false) => {
      const b = h("button", { type: "button", class: `small${danger ? " danger" : ""}`, "aria-label": `${label}: ${hook.url}` }, label);
      b.addEventListener("click", run);
      return b;
    };
    return h(
      "li",
      { class: `hook-row${hook.enabled ? "" : " disabled"}`, dataset: { id: hook.id } },
      h("span", { class: "hook-url" }, hook.url),
      h("span", { class: `badge ${hook.enabled ? "status-completed" : "status-no_show"}` }, hook.enabled ? "active" : "disabled"),
      h("small", { class: "hook-what" }, `${calendar} · ${events}`),
      h(
        "span",
        { class: "hook-actions" },
        button("Delivery log", () => this.openLog(hook)),
        button("Retry now", () => this.retry(hook)),
        button("Delete", () => this.remove(hook), true),
      ),
    );
  }

  async add() {
    const input = $("#hook-url");
    const url = input.value.trim();
    if (!/^https?:\/\/\S+$/i.test(url)) {
      $("#hook-msg").textContent = "Give the receiver's address, starting with https:// (or http://).";
      input.focus();
      return;
    }
    const body = { url };
    const events = [...document.querySelectorAll("#hook-events input:checked")].map((box) => box.value);
    if (events.length) body.events = events;
    if ($("#hook-calendar").value) body.calendar_id = $("#hook-calendar").value;
    $("#hook-msg").textContent = "";
    try {
      const made = await this.rest.post("api/v1/webhooks", body);
      $("#hook-secret").value = made.secret;
      show($("#hook-secret-box"), true);
      $("#hook-secret").select();
      $("#hook-secret").focus();
      input.value = "";
      this.feedback.say(`Added a webhook for ${made.url}.`);
      await this.load();
    } catch (error) {
      $("#hook-msg").textContent = error.code === "bad_request" ? `The hub refused that address: ${error.message}.` : explain(error);
    }
  }

  async openLog(hook) {
    this.logOf = hook.id;
    $("#hook-log-title").textContent = `Delivery log: ${hook.url}`;
    show($("#hook-log"), true);
    await this.loadLog();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.loadLog(), LOG_EVERY_MS);
    $("#hook-log-title").focus();
  }

  stopLog() {
    clearInterval(this.timer);
    this.timer = null;
    this.logOf = null;
    show($("#hook-log"), false);
  }

  async loadLog() {
    const id = this.logOf;
    if (!id) return;
    if ($("#screen-webhooks").hidden) return this.stopLog();
    let deliveries;
    try {
      deliveries = await this.rest.get(`api/v1/webhooks/${id}/deliveries`);
    } catch (error) {
      $("#hook-log-note").textContent = explain(error);
      return;
    }
    if (id !== this.logOf) return;
    const tz = this.store.view.tz;
    const when = (text) => (text ? `${F.day(Z.dayOf(Date.parse(text), tz))} ${F.time(Date.parse(text), tz)}` : "—");
    const rows = deliveries.map((d) =>
      h(
        "tr",
        { class: `delivery ${d.status}` },
        h("th", { scope: "row" }, d.event),
        h("td", {}, this.channelName(d.channel), h("small", {}, ` #${d.seq}`)),
        h("td", {}, STATUS_WORDS[d.status] || d.status),
        h("td", {}, String(d.attempts)),
        h("td", {}, d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error || "—"),
        h("td", {}, when(d.last_attempt_at)),
        h("td", {}, d.status === "pending" ? when(d.next_attempt_at) : "—"),
      ),
    );
    fill($("#hook-log-body"), rows);
    $("#hook-log-note").textContent = deliveries.length
      ? `${deliveries.length} deliveries, the latest first; updated ${F.time(Date.now(), tz)}.`
      : "Nothing delivered yet: events committed from now on are sent here.";
  }

  channelName(channel) {
    const [kind, id] = channel.split(":");
    return kind === "calendar" ? this.store.calendars.get(id)?.name || "a calendar" : channel;
  }

  async retry(hook) {
    try {
      const after = await this.rest.post(`api/v1/webhooks/${hook.id}/retry`);
      this.feedback.say(`Retrying now: ${after.url}${hook.enabled ? "" : " (enabled again)"}.`);
      await this.load();
      if (this.logOf === hook.id) setTimeout(() => this.loadLog(), 500);
    } catch (error) {
      this.feedback.say(`Could not retry. ${explain(error)}`, { kind: "error", code: error.code });
    }
  }

  async remove(hook) {
    const ok = await confirmAction({
      title: "Delete this webhook?",
      body: `${hook.url} gets nothing more from the hub, and its delivery log is deleted too.`,
      confirm: "Delete webhook",
      keep: "Keep webhook",
    });
    if (!ok) return;
    try {
      await this.rest.delete(`api/v1/webhooks/${hook.id}`);
      this.feedback.say(`Deleted the webhook for ${hook.url}.`);
      if (this.logOf === hook.id) this.stopLog();
    } catch (error) {
      this.feedback.say(`The webhook was not deleted. ${explain(error)}`, { kind: "error", code: error.code });
    }
    await this.load();
  }
}
