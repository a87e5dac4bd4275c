// Ask once before an action that is hard to take back (cancel, complete,
// no-show, demote, deactivate). Resolves true when confirmed.

import { $ } from "../ui.js";

export function confirmAction({ title, body, confirm, keep = "Go back", danger = true }) {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-body").textContent = body;
  const yes = $("#confirm-yes");
  const no = $("#confirm-no");
  yes.textContent = confirm;
  yes.className = danger ? "danger-solid" : "primary";
  no.textContent = keep;
  return new Promise((resolve) => {
    const finish = (answer) => {
      yes.removeEventListener("click", onYes);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onYes = () => finish(true);
    const onNo = () => finish(false);
    const onClose = () => finish(false);
    yes.addEventListener("click", onYes);
    no.addEventListener("click", onNo);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    no.focus(); // the safe choice has the focus
  });
}
