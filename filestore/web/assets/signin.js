// The sign-in page of the local server: a field labelled "Email" and a button "Sign in" (or, when
// the server offers no browser sign-in, a field for a token from `filestore token`).

import { h, replace } from "./dom.js";

function page(main, heading, problem, field, submitLabel, help) {
  return new Promise((resolve) => {
    const form = h("form", { class: "card signin", onsubmit: (event) => {
      event.preventDefault();
      if (field.value.trim()) resolve(field.value.trim());
    } },
    h("h1", {}, heading),
    help && h("p", { class: "muted" }, help),
    problem && h("p", { class: "problem", role: "alert" }, problem),
    h("label", {}, field.dataset.label, field),
    h("button", { type: "submit", class: "primary" }, submitLabel));
    replace(main, form);
    field.focus();
  });
}

/** Resolve with the e-mail address typed into the form shown in `main`. */
export function askEmail(main, problem = "") {
  const field = h("input", { type: "email", name: "email", autocomplete: "email", required: true, "data-label": "Email" });
  return page(main, "Sign in to filestore", problem, field, "Sign in",
    "Type your e-mail address: the same address is the same account as `filestore token --email` gives.");
}

/** Resolve with a token pasted into the form shown in `main`. */
export function askToken(main, problem = "") {
  const field = h("textarea", { name: "token", rows: 4, required: true, "data-label": "Token" });
  return page(main, "Sign in to filestore", problem, field, "Sign in",
    "This server offers no sign-in from the browser. Paste the token that `filestore token --email you@example.com` prints.");
}
