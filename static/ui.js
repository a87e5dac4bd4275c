// Small DOM helpers shared by the pages.

export const $ = (selector, root = document) => root.querySelector(selector);

export function show(element, visible) {
  element.hidden = !visible;
}

/** Build an element: h("button", {class: "x", onclick}, "text", child…). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "style") {
      for (const [name, v] of Object.entries(value)) {
        if (name.startsWith("--")) element.style.setProperty(name, v);
        else element.style[name] = v;
      }
    }
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replace an element's children; arrays are flattened and null or false left out, as in h(). */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return element;
}

/** A brief highlight of something that just changed. */
export function flash(element) {
  element.classList.remove("flash");
  void element.offsetWidth; // restart the animation
  element.classList.add("flash");
  element.addEventListener("animationend", () => element.classList.remove("flash"), { once: true });
}

export const STATUS_LABELS = {
  pending: "pending",
  confirmed: "confirmed",
  cancelled: "cancelled",
  completed: "completed",
  no_show: "no-show",
};

/** A sentence for an error answer, naming its code so it can be looked up. */
export function describeError(error) {
  const code = error?.code || "error";
  const texts = {
    slot_taken: "That time is already taken by another appointment",
    version_conflict: "Someone else changed this appointment meanwhile",
    outside_availability: "That time is outside the calendar's working hours",
    invalid_transition: "That status change is not allowed",
    forbidden: "You are not allowed to do that",
    connection_lost: "The connection dropped before the hub answered",
    rate_limited: "Too many requests; wait a moment",
    unavailable: "The hub is unavailable right now; nothing was changed",
  };
  const text = texts[code] || error?.message || "Something went wrong";
  return `${text} (${code}).`;
}

/** Debounce: run fn once, `ms` after the last call. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
