// A <select> of every IANA time zone, grouped by region, city names first
// so that typing "Lon" finds London.

import { h } from "../ui.js";
import { allZones, browserZone } from "./url.js";

let groups = null;

function zoneGroups() {
  if (groups) return groups;
  const byRegion = new Map();
  for (const zone of allZones()) {
    const [region, ...rest] = zone.split("/");
    const key = rest.length ? region : "Other";
    if (!byRegion.has(key)) byRegion.set(key, []);
    byRegion.get(key).push([zone, (rest.length ? rest.join(" / ") : zone).replaceAll("_", " ")]);
  }
  groups = [...byRegion.entries()];
  return groups;
}

/** Fill a select with every zone and choose `value` (added when the browser does not list it). */
export function fillZoneSelect(select, value) {
  const mine = browserZone();
  if (!select.options.length) {
    select.replaceChildren(
      ...zoneGroups().map(([region, zones]) =>
        h(
          "optgroup",
          { label: region },
          zones.map(([zone, name]) => h("option", { value: zone }, zone === mine ? `${name} (this device)` : name)),
        ),
      ),
    );
  }
  if (value && ![...select.options].some((o) => o.value === value)) select.prepend(h("option", { value }, value));
  select.value = value;
}
