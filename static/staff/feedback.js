// Feedback that never shifts the layout: a message floating over the bottom
// of the window, in a live region, with an optional action such as "Undo".

import { h } from "../ui.js";

export class Feedback {
  constructor(root) {
    this.root = root; // fixed-position container holding #feedback-status and #feedback-alert
    this.status = root.querySelector("#feedback-status");
    this.alert = root.querySelector("#feedback-alert");
    this.timer = null;
  }

  /**
   * Say something. kind: "ok" | "info" | "error". action: {label, run} adds a
   * button (kept at least `seconds`, 10 by default when there is one).
   */
  say(text, { kind = "ok", action = null, seconds = null, code = null } = {}) {
    clearTimeout(this.timer);
    this.clear();
    const region = kind === "error" ? this.alert : this.status;
    const button = action
      ? h("button", { type: "button", class: "toast-action" }, action.label)
      : null;
    const close = h("button", { type: "button", class: "toast-close quiet", "aria-label": "Dismiss message" }, "✕");
    const toast = h("div", { class: `toast ${kind}`, dataset: code ? { code } : {} }, h("span", { class: "toast-text" }, text), button, close);
    if (button) {
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await action.run();
        } finally {
          if (toast.isConnected && region.contains(toast) && button.disabled) this.clear();
        }
      });
    }
    close.addEventListener("click", () => this.clear());
    region.append(toast);
    this.root.hidden = false;
    const wait = (seconds ?? (action ? 10 : kind === "error" ? 12 : 5)) * 1000;
    this.timer = setTimeout(() => this.clear(), wait);
    return toast;
  }

  clear() {
    this.status.replaceChildren();
    this.alert.replaceChildren();
  }
}
