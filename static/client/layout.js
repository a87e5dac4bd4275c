// The client page's frame, built into <section id="client-view">: the views
// fill its parts.

import { h } from "../ui.js";

/** Replace the section's content with the page's frame; returns its parts. */
export function buildLayout(section) {
  const parts = {
    banner: h("p", { class: "cp-banner", role: "status", "aria-live": "polite", hidden: true }),
    controls: h("div", { class: "cp-controls" }),
    moving: h("div", { class: "cp-moving-slot" }), // "Rescheduling: …" sits above the day and times
    month: h("section", { class: "cp-card cp-month", "aria-label": "Choose a day" }),
    times: h("section", { class: "cp-card cp-times", "aria-labelledby": "cp-times-title" }),
    mine: h("section", { class: "cp-card cp-mine", "aria-labelledby": "cp-mine-title" }),
  };
  section.classList.add("cp");
  section.replaceChildren(
    h(
      "header",
      { class: "cp-head" },
      h("h1", { id: "cp-title" }, "Book an appointment"),
      h("p", { class: "cp-lead" }, "Choose a day, then a time. The time is held for you while you finish booking."),
    ),
    parts.banner,
    parts.controls,
    parts.moving,
    h("div", { class: "cp-main" }, parts.month, parts.times),
    parts.mine,
  );
  return parts;
}

/** Load client.css once (index.html is shared with the staff pages and stays as it is). */
export function loadStyles() {
  const href = new URL("../client.css", import.meta.url).href;
  if ([...document.querySelectorAll("link[rel=stylesheet]")].some((link) => link.href === href)) return;
  document.head.append(h("link", { rel: "stylesheet", href }));
}
