// Reads an iCalendar feed on stdin, parses it with Mozilla's ical.js and prints
// the calendar's properties and its events as JSON, for tests/test_ical_unit.py.
// Times are ISO 8601 in UTC; a property the feed lacks is null.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString("utf8");

const root = new ICAL.Component(ICAL.parse(text));
const utc = (time) => (time ? time.toJSDate().toISOString() : null);
const value = (component, name) => {
  const found = component.getFirstPropertyValue(name);
  return found === null || typeof found === "string" || typeof found === "number"
    ? found
    : found.toString();
};

const calendar = {};
for (const name of ["version", "prodid", "calscale", "method", "name", "x-wr-calname",
  "refresh-interval", "x-published-ttl"]) {
  calendar[name] = value(root, name);
}
calendar["refresh-interval-type"] = root.getFirstProperty("refresh-interval")?.type ?? null;

const events = root.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    start: utc(event.startDate),
    end: utc(event.endDate),
    start_zone: event.startDate.zone.tzid,
    summary: event.summary,
    description: vevent.hasProperty("description") ? event.description : null,
    status: value(vevent, "status"),
    sequence: event.sequence,
    dtstamp: utc(vevent.getFirstPropertyValue("dtstamp")),
    created: utc(vevent.getFirstPropertyValue("created")),
    last_modified: utc(vevent.getFirstPropertyValue("last-modified")),
  };
});

process.stdout.write(JSON.stringify({ calendar, events }));
