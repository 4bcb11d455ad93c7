// Messages to the person: passing news in the status region (with an optional action such as
// "Undo"), problems in the alert region. Both regions are in index.html.

import { h } from "./dom.js";

const SHOW_FOR_MS = 8000;

function region(id) {
  return document.getElementById(id);
}

function post(id, text, action, ms) {
  const box = region(id);
  const close = () => item.remove();
  const item = h("div", { class: "notice" },
    h("span", {}, text),
    action && h("button", { type: "button", onclick: () => { close(); action.run(); } }, action.label),
    h("button", { type: "button", class: "quiet", "aria-label": "Dismiss", onclick: close }, "×"),
  );
  box.append(item);
  if (ms) setTimeout(close, ms);
  return close;
}

/** News: "Moved notes.txt to the trash." with an optional `{label, run}` action. */
export function notify(text, action = null) {
  return post("notices", text, action, action ? SHOW_FOR_MS * 2 : SHOW_FOR_MS);
}

/** A problem the person can act on; stays until dismissed (or `ms` passes). */
export function alertProblem(text, ms = 0) {
  return post("alerts", text, null, ms);
}

/** Run `work`; show its error (an ApiError's message is written for people) instead of throwing. */
export async function attempt(work) {
  try {
    return await work();
  } catch (error) {
    if (error?.name !== "AbortError") alertProblem(error?.message || String(error), 15000);
    return undefined;
  }
}
