// Drives static/hub-client.js under Node against a real hub; prints one JSON
// line per step, which tests/test_hub_client_node.py reads and checks.
//
//   node hub_client_node.mjs <ws_url> <access_token> <calendar_id> <ws-class|global> <starts_at> <ends_at>
//
// "ws-class" passes the ws package's WebSocket as an option (Node 20);
// "global" relies on globalThis.WebSocket (Node 22, or 20 with --experimental-websocket).

import { createRequire } from "node:module";

import { HubClient } from "../../static/hub-client.js";

const [url, token, calendarId, mode, startsAt, endsAt] = process.argv.slice(2);
const require = createRequire(import.meta.url);

function report(step, data = {}) {
  process.stdout.write(JSON.stringify({ step, ...data }) + "\n");
}

function waitFor(check, what, ms = 5000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const value = check();
      if (value) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 10);
  });
}

async function main() {
  try {
    new HubClient({ token: () => token, WebSocket: class {} });
    report("no_url", { threw: false });
  } catch (error) {
    report("no_url", { threw: true, name: error.name, message: error.message });
  }

  const options = { url, token: () => token };
  if (mode === "ws-class") options.WebSocket = require("ws").WebSocket;
  const states = [];
  const hub = new HubClient({ ...options, onState: (state) => states.push(state) });
  const watched = [];
  hub.watchState((state) => watched.push(state));

  const hello = await hub.connect();
  report("hello", { user: hello.user, protocol: hello.protocol, state: hub.state });

  const events = [];
  const holdsSeen = [];
  const sub = hub.subscribe(`calendar:${calendarId}`, {
    onEvent: (event) => events.push(event),
    onHolds: (holds) => holdsSeen.push(holds.map((hold) => hold.id)),
  });
  await sub.ready;
  report("subscribed", { seq: sub.lastSeq });

  const made = await hub.request("appointment.create", {
    calendar_id: calendarId,
    starts_at: startsAt,
    ends_at: endsAt,
    title: "From Node",
  });
  const created = await waitFor(
    () => events.find((e) => e.event === "appointment.created" && e.data.id === made.appointment.id),
    "appointment.created",
  );
  report("event", { event: created.event, seq: created.seq, id: created.data.id, seqs: made.seqs });
  await hub.request("appointment.cancel", { appointment_id: made.appointment.id });

  let hold;
  try {
    hold = await hub.hold(calendarId, startsAt, endsAt);
  } catch (error) {
    report("hold", { error: error.code, message: error.message });
    hub.close();
    report("closed", { state: hub.state, states, watched });
    return;
  }
  await waitFor(() => sub.holds.has(hold.id), "slot.held");
  const heldEvent = events.find((e) => e.event === "slot.held" && e.data.id === hold.id);
  report("hold", { hold, event_seq: heldEvent.seq, holds: [...sub.holds.keys()] });

  const released = await hub.release(hold.id);
  await waitFor(() => !sub.holds.has(hold.id), "slot.released");
  const releasedEvent = events.find((e) => e.event === "slot.released" && e.data.id === hold.id);
  report("release", { seqs: released.seqs, reason: releasedEvent.data.reason, holds: [...sub.holds.keys()], holds_seen: holdsSeen });

  try {
    await hub.release(hold.id);
    report("release_again", { error: null });
  } catch (error) {
    report("release_again", { error: error.code });
  }
  hub.close();
  report("closed", { state: hub.state, states, watched });
}

main().then(
  () => process.exit(0),
  (error) => {
    report("failed", { message: String(error?.stack || error), code: error?.code });
    process.exit(1);
  },
);
