// The staff and admin application: builds the store, the live link to the
// hub, the screens and dialogs, and routes between Schedule, Calendars,
// Users, Webhooks (admins) and Subscribe (#calendars, #users, #webhooks,
// #feeds). startStaff() is what app.js calls.

import { $, show } from "../ui.js";
import * as Z from "../zoned.js";
import { Actions, explain } from "./actions.js";
import { CalendarsAdmin } from "./admin-calendars.js";
import { UsersAdmin } from "./admin-users.js";
import { WebhooksAdmin } from "./admin-webhooks.js";
import { AppointmentDialog } from "./dialog-appointment.js";
import { BlockDialog } from "./dialog-block.js";
import { NewDialog } from "./dialog-new.js";
import { Feedback } from "./feedback.js";
import { FeedsScreen } from "./feeds.js";
import { firstDayOfWeek } from "./format.js";
import { Live } from "./live.js";
import { Rest } from "./rest.js";
import { Schedule } from "./schedule.js";
import { ClientSearch } from "./search.js";
import { Store } from "./store.js";
import { readState, screenOf, writeState } from "./url.js";

export async function startStaff({ hub, auth, user }) {
  const phone = window.matchMedia("(max-width: 720px)").matches;
  const wanted = readState({ phone });
  const store = new Store(user, {
    mode: wanted.mode,
    anchor: wanted.anchor || Z.today(wanted.tz),
    tz: wanted.tz,
    selected: [],
    showCancelled: wanted.showCancelled,
    firstDay: firstDayOfWeek(),
  });
  const feedback = new Feedback($("#feedback"));
  const live = new Live(hub, store, { onError: (error) => feedback.say(explain(error), { kind: "error", code: error.code }) });
  const actions = new Actions(hub, store, live);
  const dialogs = {
    appointment: new AppointmentDialog(store, actions, feedback),
    create: new NewDialog(store, actions, feedback),
    block: new BlockDialog(store, actions, feedback),
  };
  const schedule = new Schedule({ store, actions, feedback, dialogs });
  const admin = user.role === "admin";
  const rest = new Rest(auth);
  const screens = {
    schedule,
    calendars: admin ? new CalendarsAdmin(store, actions, feedback) : null,
    users: admin ? new UsersAdmin(store, actions, feedback) : null,
    webhooks: admin ? new WebhooksAdmin(store, rest, feedback) : null,
    feeds: new FeedsScreen(store, rest, feedback),
  };
  new ClientSearch(store, actions, {
    reveal: (appointment) => {
      location.hash = "";
      schedule.reveal(appointment);
    },
    book: (client) => dialogs.create.open({ client }),
  });
  show($("#staff-nav"), true);
  for (const link of document.querySelectorAll("#staff-nav [data-admin]")) show(link, admin);

  performance.mark("hub:session");
  const { calendars } = await hub.request("calendars.list");
  performance.mark("hub:calendars");
  store.setCalendars(calendars);
  actions.findPeople("").catch(() => {}); // names of clients arrive when they arrive
  const known = (wanted.calendars || []).filter((id) => store.calendars.has(id));
  const selected = wanted.calendars?.length && known.length ? known : calendars.filter((c) => c.is_active).map((c) => c.id);
  if (!wanted.anchor) schedule.today({ selected });
  else schedule.go({ selected });
  live.ready().then(() => {
    performance.mark("hub:snapshots");
    document.body.dataset.loaded = "1";
  });

  const route = () => {
    const name = screenOf();
    const screen = screens[name] ? name : "schedule";
    for (const key of Object.keys(screens)) show($(`#screen-${key}`), key === screen);
    for (const link of document.querySelectorAll("#staff-nav a")) {
      if (link.getAttribute("href") === `#${screen}`) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (screen !== "schedule") {
      hub.request("calendars.list").then(({ calendars: fresh }) => store.setCalendars(fresh), () => {});
      screens[screen].show();
    }
    document.body.dataset.screen = screen;
  };
  window.addEventListener("hashchange", route);
  route();
  writeState(store.view);
  window.__dashboard = { store, live, schedule, actions };

  return {
    stop() {
      window.removeEventListener("hashchange", route);
      schedule.stop();
      live.stop();
      show($("#staff-nav"), false);
      delete window.__dashboard;
    },
  };
}
