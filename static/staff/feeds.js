// "Subscribe in your calendar app" (PROTOCOL.md "Calendar feeds"): staff make
// a secret iCalendar address of a calendar or of their own appointments, copy
// it into Google Calendar, Apple Calendar or Outlook, and revoke it. The hub
// shows an address only when it is made (it keeps a digest), so the list of
// feeds says what each is for and when it was made, not its address.

import { $, fill, h, show } from "../ui.js";
import * as Z from "../zoned.js";
import { explain } from "./actions.js";
import { confirmAction } from "./confirm.js";
import * as F from "./format.js";
import { copyText } from "./rest.js";

const OWN = ""; // the select's value for "your own appointments"

export class FeedsScreen {
  constructor(store, rest, feedback) {
    this.store = store;
    this.rest = rest;
    this.feedback = feedback;
    this.fresh = null; // the feed whose address is shown (only when made)
    $("#feed-make").addEventListener("click", () => this.make());
    $("#feed-copy").addEventListener("click", () => this.copy());
  }

  show() {
    this.fillChoices();
    show($("#feed-new"), false);
    $("#feed-msg").textContent = "";
    this.load();
  }

  fillChoices() {
    const select = $("#feed-of");
    const chosen = select.value;
    const calendars = [...this.store.calendars.values()];
    fill(
      select,
      h("option", { value: OWN }, "Your own appointments"),
      calendars.map((c) => h("option", { value: c.id }, `${c.name}${c.is_active ? "" : " (inactive)"}`)),
    );
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  }

  /** What a feed is of, in words. */
  feedName(feed) {
    if (!feed.calendar_id) return "Your own appointments";
    return this.store.calendars.get(feed.calendar_id)?.name || "A calendar no longer listed";
  }

  async load() {
    let feeds;
    try {
      feeds = await this.rest.get("api/v1/feeds");
    } catch (error) {
      fill($("#feed-list"), h("li", { class: "muted" }, explain(error)));
      return;
    }
    const tz = this.store.view.tz;
    const items = feeds
      .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))
      .map((feed) => {
        const made = Date.parse(feed.created_at);
        const name = this.feedName(feed);
        const since = `made ${F.longDay(Z.dayOf(made, tz))}, ${F.time(made, tz)}`;
        const revoke = h("button", { type: "button", class: "small danger", "aria-label": `Revoke: ${name}, ${since}` }, "Revoke");
        revoke.addEventListener("click", () => this.revoke(feed, name, since));
        return h("li", { class: "feed-row", dataset: { id: feed.id } }, h("span", { class: "feed-name" }, name), h("small", {}, since), revoke);
      });
    fill($("#feed-list"), items.length ? items : h("li", { class: "muted" }, "No feeds yet. Make one on the left."));
  }

  async make() {
    const calendarId = $("#feed-of").value;
    const button = $("#feed-make");
    button.disabled = true;
    $("#feed-msg").textContent = "";
    try {
      const feed = await this.rest.post("api/v1/feeds", calendarId === OWN ? {} : { calendar_id: calendarId });
      this.fresh = feed.id;
      $("#feed-url").value = feed.url;
      $("#feed-new-title").textContent = `New feed address: ${this.feedName(feed)}`;
      show($("#feed-new"), true);
      $("#feed-url").select();
      $("#feed-url").focus();
      await this.load();
    } catch (error) {
      $("#feed-msg").textContent = explain(error);
    } finally {
      button.disabled = false;
    }
  }

  async copy() {
    const copied = await copyText($("#feed-url").value);
    $("#feed-msg").textContent = copied
      ? "Copied. Paste it where your calendar app adds a calendar from a URL."
      : "This browser would not copy it: select the address and copy it yourself.";
  }

  async revoke(feed, name, since) {
    const ok = await confirmAction({
      title: "Revoke this feed?",
      body: `${name}, ${since}. Calendar apps subscribed to its address stop getting appointments from it at once.`,
      confirm: "Revoke feed",
      keep: "Keep feed",
    });
    if (!ok) return;
    try {
      await this.rest.delete(`api/v1/feeds/${feed.id}`);
      this.feedback.say(`Revoked the feed: ${name}.`);
      if (feed.id === this.fresh) show($("#feed-new"), false);
    } catch (error) {
      this.feedback.say(`The feed was not revoked. ${explain(error)}`, { kind: "error", code: error.code });
    }
    await this.load();
  }
}
