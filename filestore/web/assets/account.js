// The signed-in person in the header: e-mail, quota bar, the e-mail notification switch, sign out.

import { h, replace } from "./dom.js";
import { humanSize, percent } from "./format.js";
import { attempt } from "./notices.js";

/** Render the account box into `box`; returns `refresh()` to re-read the quota. */
export function showAccount(box, api, session) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Storage used" });
  const used = h("span", { class: "muted" });
  const notify = h("input", { type: "checkbox", role: "switch", onchange: () => attempt(async () => {
    render(await api.updateMe({ notify_email: notify.checked }));
  }) });
  replace(box,
    h("span", { class: "who" }, session.email),
    h("div", { class: "quota" }, bar, used),
    h("label", { class: "switch" }, notify, "Email me when a file is stored"),
    h("button", { type: "button", onclick: () => session.signOut() }, "Sign out"));

  function render(me) {
    bar.value = percent(me.used_bytes, me.quota_bytes);
    bar.classList.toggle("full", bar.value >= 90);
    used.textContent = `${humanSize(me.used_bytes)} of ${humanSize(me.quota_bytes)} used`;
    notify.checked = Boolean(me.notify_email);
  }

  let pending = null;
  async function refresh() {
    clearTimeout(pending);
    pending = setTimeout(() => attempt(async () => render(await api.me())), 300);
  }
  attempt(async () => render(await api.me()));
  return refresh;
}
