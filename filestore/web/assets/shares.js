// Sharing a file: pick a lifetime, create a link, copy it; see and revoke the file's live links.

import { h, replace } from "./dom.js";
import { openDialog } from "./dialog.js";
import { humanDate, timeLeft } from "./format.js";
import { attempt, notify } from "./notices.js";

export const LIFETIMES = [
  ["1 hour", 3600],
  ["1 day", 86400],
  ["7 days", 7 * 86400],
];

async function copy(text, field) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    field.select(); // no clipboard permission: leave it selected for Ctrl+C
    return notify("Press Ctrl+C to copy the selected link.");
  }
  return notify("Link copied.");
}

/** The share dialog of `upload`. */
export function shareDialog(api, upload) {
  return openDialog(`Share ${upload.name}`, (close) => {
    const lifetime = h("select", { name: "expires_in" },
      LIFETIMES.map(([label, seconds]) => h("option", { value: seconds }, label)));
    lifetime.value = String(86400);
    const created = h("div", { class: "created" });
    const links = h("ul", { class: "links", "aria-label": "Live links" });

    function linkField(url) {
      return h("input", { type: "text", readonly: true, value: url, "aria-label": "Link", class: "link" });
    }

    async function refresh() {
      const { items } = await api.listShares(upload.id);
      replace(links, items.length ? items.map((share) => {
        const field = linkField(share.url);
        return h("li", {}, field,
          h("span", { class: "muted" }, `Expires ${timeLeft(share.expires_at)} (${humanDate(share.expires_at)})`),
          h("span", { class: "buttons" },
            h("button", { type: "button", onclick: () => copy(share.url, field) }, "Copy link"),
            h("button", { type: "button", "aria-label": `Revoke link ${share.url}`, onclick: () => attempt(async () => {
              await api.revokeShare(share.token);
              notify("Link revoked: it no longer opens.");
              await refresh();
            }) }, "Revoke")));
      }) : h("li", { class: "muted" }, "No live links."));
    }

    const form = h("form", { onsubmit: (event) => {
      event.preventDefault();
      attempt(async () => {
        const share = await api.createShare(upload.id, Number(lifetime.value));
        const field = linkField(share.url);
        replace(created, h("p", {}, `New link, expires ${humanDate(share.expires_at)}:`), field,
          h("button", { type: "button", class: "primary", onclick: () => copy(share.url, field) }, "Copy link"));
        field.select();
        await refresh();
      });
    } },
    h("label", {}, "Expires after", lifetime),
    h("button", { type: "submit", class: "primary" }, "Create link"));

    attempt(refresh);
    return [form, created, h("h3", {}, "Live links"), links,
      h("div", { class: "buttons" }, h("button", { type: "button", onclick: () => close() }, "Close"))];
  });
}
