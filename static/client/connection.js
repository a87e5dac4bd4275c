// One plain sentence at the top of the page while booking cannot work:
// offline, reconnecting, or a backing service of the hub down.

import { show } from "../ui.js";

export class ConnectionView {
  constructor(banner, store) {
    this.banner = banner;
    store.subscribe((state) => this.render(state));
    this.render(store.get());
  }

  render(state) {
    const text = sentence(state);
    show(this.banner, Boolean(text));
    if (this.banner.textContent !== text) this.banner.textContent = text;
    this.banner.dataset.kind = state.serviceDown && state.connection === "live" ? "service" : "offline";
  }
}

function sentence(state) {
  if (state.connection === "offline") {
    return "You are offline. Booking is paused until the connection is back; nothing is booked or changed meanwhile.";
  }
  if (state.connection === "reconnecting" || state.connection === "connecting") {
    return "The connection to the booking system was lost. Reconnecting… Booking is paused until it is back.";
  }
  if (state.serviceDown) {
    return "The booking system has a problem on its side right now. Booking is paused; nothing is booked or changed meanwhile. This page tries again by itself.";
  }
  return "";
}
