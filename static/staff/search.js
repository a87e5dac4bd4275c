// "Search clients": find a client by name or email, see their appointments
// (their user channel), and jump to one in the schedule.

import { $, debounce, fill, h, show } from "../ui.js";
import { explain } from "./actions.js";
import { STATUS_WORDS, when } from "./describe.js";

export class ClientSearch {
  constructor(store, actions, { reveal, book }) {
    this.store = store;
    this.actions = actions;
    this.reveal = reveal; // (appointment) => show it in the schedule
    this.book = book; // (client) => open "New appointment" for them
    this.input = $("#client-search");
    this.results = $("#search-results");
    this.dialog = $("#client-dialog");
    this.asked = 0;
    const search = debounce(() => this.search(), 200);
    this.input.addEventListener("input", () => (this.input.value.trim() ? search() : this.close()));
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        this.results.querySelector("button")?.focus();
      } else if (event.key === "Escape") {
        this.close();
      } else if (event.key === "Enter") {
        event.preventDefault();
        this.search();
      }
    });
    this.results.addEventListener("keydown", (event) => this.onResultsKey(event));
    document.addEventListener("pointerdown", (event) => {
      if (!event.target.closest?.("#client-search, #search-results")) this.close();
    });
    $("#client-close").addEventListener("click", () => this.dialog.close());
  }

  async search() {
    const query = this.input.value.trim();
    if (!query) return this.close();
    const asked = (this.asked += 1);
    let people;
    try {
      people = await this.actions.findPeople(query);
    } catch (error) {
      people = null;
      this.results.replaceChildren(h("p", { class: "muted" }, explain(error)));
    }
    if (asked !== this.asked) return;
    if (people) {
      const clients = people.filter((p) => p.role === "user").concat(people.filter((p) => p.role !== "user"));
      const buttons = clients.slice(0, 12).map((person) => {
        const button = h(
          "button",
          { type: "button", class: "result", dataset: { id: person.id } },
          h("span", { class: "result-name" }, person.full_name),
          h("small", {}, ` ${person.email}${person.role === "user" ? "" : ` · ${person.role}`}${person.is_active ? "" : " · inactive"}`),
        );
        button.addEventListener("click", () => this.openClient(person));
        return h("li", {}, button);
      });
      fill(
        this.results,
        buttons.length ? h("ul", { class: "results-list" }, buttons) : h("p", { class: "muted" }, `No client matches “${query}”.`),
      );
    }
    show(this.results, true);
    const count = this.results.querySelectorAll("button.result").length;
    $("#search-status").textContent = count ? `${count} found; press down to choose.` : "No client found.";
  }

  onResultsKey(event) {
    const buttons = [...this.results.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = at + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0) this.input.focus();
      else buttons[Math.min(next, buttons.length - 1)]?.focus();
    } else if (event.key === "Escape") {
      this.close();
      this.input.focus();
    }
  }

  close() {
    show(this.results, false);
  }

  async openClient(person) {
    this.close();
    $("#client-title").textContent = person.full_name;
    $("#client-email").textContent = person.email;
    const list = $("#client-appts");
    list.replaceChildren(h("li", { class: "muted" }, "Loading…"));
    const bookButton = $("#client-book");
    bookButton.textContent = `New appointment for ${person.full_name}`;
    bookButton.onclick = () => {
      this.dialog.close();
      this.book(person);
    };
    if (!this.dialog.open) this.dialog.showModal();
    let appointments;
    try {
      appointments = await this.actions.appointmentsOf(person.id);
    } catch (error) {
      list.replaceChildren(h("li", { class: "muted" }, explain(error)));
      return;
    }
    const now = Date.now();
    const upcoming = appointments.filter((a) => Date.parse(a.ends_at) > now);
    const past = appointments.filter((a) => Date.parse(a.ends_at) <= now).reverse();
    const tz = this.store.view.tz;
    const item = (a) => {
      const calendar = this.store.calendars.get(a.calendar_id);
      const button = h(
        "button",
        { type: "button", class: `client-appt status-${a.status}`, dataset: { id: a.id } },
        h("span", { class: "ca-when" }, when(a, tz)),
        h("span", { class: "ca-what" }, `${a.title} · ${calendar?.name || ""}`),
        h("span", { class: `badge status-${a.status}` }, STATUS_WORDS[a.status]),
      );
      button.addEventListener("click", () => {
        this.dialog.close();
        this.reveal(a);
      });
      return h("li", {}, button);
    };
    fill(
      list,
      h("li", { class: "ca-group" }, h("h3", {}, "Upcoming"), upcoming.length ? h("ul", {}, upcoming.map(item)) : h("p", { class: "muted" }, "Nothing booked ahead.")),
      past.length ? h("li", { class: "ca-group" }, h("h3", {}, "Earlier"), h("ul", {}, past.slice(0, 20).map(item))) : null,
    );
  }
}
