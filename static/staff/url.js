// The view in the address (so a reload or a shared link shows the same) and
// the choices remembered on this device (time zone, shown calendars).

import * as Z from "../zoned.js";
import { VIEWS } from "./period.js";

const TZ_KEY = "hub.staff.tz";
const CALENDARS_KEY = "hub.staff.calendars";
export const SCREENS = ["schedule", "calendars", "users", "webhooks", "feeds"];

export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function validZone(zone) {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** What the address and this device ask for: {mode, anchor, calendars, tz, showCancelled, dated}. */
export function readState({ phone = false } = {}) {
  const params = new URLSearchParams(location.search);
  const mode = VIEWS.includes(params.get("view")) ? params.get("view") : phone ? "day" : "week";
  const remembered = localStorage.getItem(TZ_KEY);
  const tz = [params.get("tz"), remembered, browserZone()].find(validZone) || "UTC";
  const anchor = Z.parseDayKey(params.get("date") || "");
  const listed = params.get("calendars") ?? localStorage.getItem(CALENDARS_KEY);
  return {
    mode,
    anchor,
    tz,
    calendars: listed == null ? null : listed.split(",").filter(Boolean),
    showCancelled: params.get("cancelled") !== "hide",
  };
}

/** Put the view in the address (no new history entry) and remember the device's choices. */
export function writeState(view) {
  const params = new URLSearchParams(location.search);
  params.set("view", view.mode);
  params.set("date", Z.dayKey(view.anchor));
  params.set("calendars", view.selected.join(","));
  params.set("tz", view.tz);
  if (view.showCancelled) params.delete("cancelled");
  else params.set("cancelled", "hide");
  localStorage.setItem(TZ_KEY, view.tz);
  localStorage.setItem(CALENDARS_KEY, view.selected.join(","));
  history.replaceState(history.state, "", `${location.pathname}?${params}${location.hash}`);
}

/** The screen named by the hash: #calendars, #users, #webhooks, #feeds, else the schedule. */
export function screenOf(hash = location.hash) {
  const name = hash.replace(/^#\/?/, "");
  return SCREENS.includes(name) ? name : "schedule";
}

/** Every IANA zone the browser knows, UTC first. */
export function allZones() {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [browserZone()];
  }
  return ["UTC", ...zones.filter((z) => z !== "UTC")];
}
