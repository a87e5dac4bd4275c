// Administration of users: search by name or email, change a role, activate
// or deactivate; demoting and deactivating ask once.

import { $, debounce, h } from "../ui.js";
import { explain } from "./actions.js";
import { confirmAction } from "./confirm.js";

const ROLE_NAMES = { user: "Client", staff: "Staff", admin: "Admin" };
const RANK = { user: 0, staff: 1, admin: 2 };

export class UsersAdmin {
  constructor(store, actions, feedback) {
    this.store = store;
    this.actions = actions;
    this.feedback = feedback;
    this.asked = 0;
    const search = debounce(() => this.load(), 200);
    $("#users-search").addEventListener("input", search);
    $("#users-search").addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.load();
      }
    });
  }

  show() {
    this.load();
  }

  async load() {
    const asked = (this.asked += 1);
    const query = $("#users-search").value.trim();
    try {
      const people = await this.actions.findPeople(query);
      if (asked !== this.asked) return; // a later search wins
      this.render(people);
      $("#users-count").textContent = `${people.length} ${people.length === 1 ? "user" : "users"}${query ? ` matching “${query}”` : ""}.`;
    } catch (error) {
      $("#users-count").textContent = explain(error);
    }
  }

  render(people) {
    const rows = people
      .sort((a, b) => RANK[b.role] - RANK[a.role] || a.full_name.localeCompare(b.full_name))
      .map((person) => this.row(person));
    $("#users-body").replaceChildren(...rows);
  }

  row(person) {
    const me = person.id === this.store.user.id;
    const name = `${person.full_name}${me ? " (you)" : ""}`;
    const role = h(
      "select",
      { "aria-label": `Role of ${person.full_name}` },
      Object.entries(ROLE_NAMES).map(([value, label]) => h("option", { value, selected: value === person.role }, label)),
    );
    const active = h("input", { type: "checkbox", checked: person.is_active, "aria-label": `${person.full_name} is active` });
    const tr = h(
      "tr",
      { dataset: { id: person.id }, class: person.is_active ? "" : "inactive" },
      h("th", { scope: "row" }, name),
      h("td", {}, person.email),
      h("td", {}, role),
      h("td", {}, h("label", { class: "inline check" }, active, h("span", { "aria-hidden": "true" }, person.is_active ? "Active" : "Inactive"))),
    );
    role.addEventListener("change", () => this.changeRole(person, role, me));
    active.addEventListener("change", () => this.changeActive(person, active, me));
    return tr;
  }

  async changeRole(person, select, me) {
    const to = select.value;
    if (RANK[to] < RANK[person.role]) {
      const body = me
        ? `You will lose ${person.role === "admin" ? "administration" : "the dashboard"} at once.`
        : `${person.full_name} will lose what a ${ROLE_NAMES[person.role].toLowerCase()} may do, on every device at once.`;
      const ok = await confirmAction({ title: `Demote ${person.full_name} to ${ROLE_NAMES[to].toLowerCase()}?`, body, confirm: "Demote", keep: "Keep role" });
      if (!ok) {
        select.value = person.role;
        return;
      }
    }
    await this.update(person, { role: to }, () => (select.value = person.role), `${person.full_name} is now ${ROLE_NAMES[to].toLowerCase()}.`);
  }

  async changeActive(person, box, me) {
    const on = box.checked;
    if (!on) {
      const body = `${me ? "You" : person.full_name} will be signed out everywhere at once and cannot sign in again until reactivated.`;
      const ok = await confirmAction({ title: `Deactivate ${person.full_name}?`, body, confirm: "Deactivate", keep: "Keep active" });
      if (!ok) {
        box.checked = true;
        return;
      }
    }
    await this.update(person, { is_active: on }, () => (box.checked = person.is_active), `${person.full_name} is ${on ? "active again" : "deactivated"}.`);
  }

  async update(person, changes, undo, done) {
    try {
      const user = await this.actions.updateUser(person.id, changes);
      Object.assign(person, user);
      this.feedback.say(done);
      const row = $(`#users-body tr[data-id="${person.id}"]`);
      if (row) {
        row.className = person.is_active ? "" : "inactive";
        row.querySelector("td:last-child span").textContent = person.is_active ? "Active" : "Inactive";
      }
    } catch (error) {
      undo();
      const why = error.code === "forbidden" && /last/.test(error.message || "") ? "There must always be at least one active admin." : explain(error);
      this.feedback.say(`${person.full_name} was not changed. ${why}`, { kind: "error", code: error.code });
    }
  }
}
