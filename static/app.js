// The page: sign in, connect, then the staff dashboard or the client page by role.

import { Auth } from "./auth.js";
import { startClient } from "./client.js";
import { HubClient } from "./hub-client.js";
import { startStaff } from "./staff/main.js";
import { $, show } from "./ui.js";

const STATE_LABELS = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…", offline: "offline" };

const auth = new Auth();
let hub = null;
let view = null;

function showConnection(state) {
  const badge = $("#conn");
  badge.dataset.state = state;
  badge.querySelector(".conn-label").textContent = STATE_LABELS[state] || state;
}

function showOnly(id) {
  for (const section of ["#boot", "#signin-view", "#staff-view", "#client-view"]) show($(section), section === id);
}

async function start() {
  if (!auth.signedIn) {
    showSignIn();
    return;
  }
  hub = new HubClient({
    token: () => auth.accessToken,
    refreshToken: () => auth.refresh(),
    onState: showConnection,
    onUnauthorized: (error) => signOut(error.message || "Your session has ended; please sign in again."),
  });
  window.hub = hub; // handy in the console and for tests
  let hello;
  try {
    hello = await hub.connect();
  } catch (error) {
    signOut(error.message);
    return;
  }
  const user = hello.user;
  $("#who").textContent = `${user.full_name} · ${user.role}`;
  show($("#sign-out"), true);
  const asClient = user.role === "user" || location.hash === "#book";
  const context = { hub, auth, user };
  if (asClient) {
    showOnly("#client-view");
    view = await startClient(context);
  } else {
    showOnly("#staff-view");
    view = await startStaff(context);
  }
  document.body.dataset.ready = asClient ? "client" : "staff";
}

function showSignIn(message = "") {
  document.body.dataset.ready = "signin";
  showOnly("#signin-view");
  show($("#sign-out"), false);
  $("#who").textContent = "";
  $("#signin-msg").textContent = message;
  $("#signin-email").focus();
}

async function signOut(message = "") {
  view?.stop?.();
  view = null;
  hub?.close();
  hub = null;
  await auth.logout();
  showConnection("offline");
  showSignIn(message);
}

function busy(form, on) {
  for (const control of form.querySelectorAll("button, input")) control.disabled = on;
}

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  $("#signin-msg").textContent = "";
  busy(form, true);
  try {
    await auth.login($("#signin-email").value.trim(), $("#signin-password").value);
    performance.mark("hub:login");
    $("#signin-password").value = "";
  } catch (error) {
    $("#signin-msg").textContent =
      error.code === "unauthorized" ? "Wrong email or password." : error.message || "Sign-in failed.";
    busy(form, false);
    return;
  }
  busy(form, false);
  await start();
});

$("#register-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  $("#register-msg").textContent = "";
  busy(form, true);
  try {
    await auth.register($("#register-name").value.trim(), $("#register-email").value.trim(), $("#register-password").value);
    $("#register-password").value = "";
  } catch (error) {
    $("#register-msg").textContent =
      error.code === "already_exists" ? "An account with that email exists; sign in instead." : error.message;
    busy(form, false);
    return;
  }
  busy(form, false);
  await start();
});

$("#show-register").addEventListener("click", () => {
  show($("#signin-form"), false);
  show($("#register-form"), true);
  $("#register-name").focus();
});

$("#show-signin").addEventListener("click", () => {
  show($("#register-form"), false);
  show($("#signin-form"), true);
  $("#signin-email").focus();
});

$("#sign-out").addEventListener("click", () => signOut());

start();
