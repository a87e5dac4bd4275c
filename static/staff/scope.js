// "This appointment, this and following, or all?" before a change to an
// occurrence of a recurring series (PROTOCOL.md: `scope` = one, following or
// all on appointment.update and appointment.cancel). An appointment outside a
// series is never asked about.

import { $ } from "../ui.js";
import { describe, when } from "./describe.js";

const ASKS = {
  move: { title: "Move a recurring appointment", confirm: ["Move", "Move them"] },
  edit: { title: "Change a recurring appointment", confirm: ["Save", "Save them"] },
  cancel: { title: "Cancel a recurring appointment", confirm: ["Cancel appointment", "Cancel appointments"], keep: "Keep them" },
};

/**
 * The scope of a change to `item` ("one", "following" or "all"), asked in a
 * dialog when it belongs to a series; null when the person goes back.
 * `verb` is move, edit or cancel.
 */
export function scopeFor(item, verb, store) {
  if (!item.series_id) return Promise.resolve("one");
  const ask = ASKS[verb];
  const d = describe(item, store);
  const dialog = $("#scope-dialog");
  const form = $("#scope-form");
  const yes = $("#scope-yes");
  const no = $("#scope-no");
  $("#scope-title").textContent = ask.title;
  $("#scope-body").textContent = `${d.title}${d.who ? ` with ${d.who}` : ""}, ${when(item, store.view.tz)}, repeats.`;
  no.textContent = ask.keep || "Go back";
  form.elements.scope.value = "one";
  const label = () => (yes.textContent = ask.confirm[form.elements.scope.value === "one" ? 0 : 1]);
  label();
  yes.className = verb === "cancel" ? "danger-solid" : "primary";
  return new Promise((resolve) => {
    const finish = (answer) => {
      form.removeEventListener("submit", onSubmit);
      form.removeEventListener("change", label);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      finish(form.elements.scope.value);
    };
    const onNo = () => finish(null);
    const onClose = () => finish(null);
    form.addEventListener("submit", onSubmit);
    form.addEventListener("change", label);
    no.addEventListener("click", onNo);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    form.querySelector('input[name="scope"]:checked').focus();
  });
}
