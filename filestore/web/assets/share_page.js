// The page of a share link (`/s/<token>`), for anyone who has the link: no sign-in.

import { h, replace } from "./dom.js";
import { humanDate, humanSize, timeLeft } from "./format.js";

/** Show share `token` in `main`: name, size, expiry and a Download button, or "no longer available". */
export async function showSharePage(api, main, token) {
  document.getElementById("account")?.remove();
  let share;
  try {
    share = await api.openShare(token);
  } catch (error) {
    document.title = "Link no longer available · filestore";
    const gone = error.status === 404 || error.status === 400;
    replace(main, h("section", { class: "card share" },
      h("h1", {}, gone ? "This link is no longer available" : "This link cannot be opened right now"),
      h("p", {}, gone ? "It has expired, or its owner revoked it or deleted the file. Ask them for a new link."
        : error.message)));
    main.dataset.loaded = "true";
    return;
  }
  document.title = `${share.name} · filestore`;
  const ends = share.share_expires_at || share.expires_at; // the link's end, not its URL's
  const download = h("button", { type: "button", class: "primary", onclick: async () => {
    // The signed URL lives a few minutes: ask for a fresh one on every click.
    try {
      const fresh = await api.openShare(token);
      location.assign(fresh.url);
    } catch {
      showSharePage(api, main, token);
    }
  } }, "Download");
  replace(main, h("section", { class: "card share" },
    h("p", { class: "muted" }, "Someone shared a file with you"),
    h("h1", { class: "name" }, share.name),
    h("dl", {},
      h("dt", {}, "Size"), h("dd", {}, humanSize(share.size)),
      h("dt", {}, "Link expires"), h("dd", {}, `${timeLeft(ends)} (${humanDate(ends)})`)),
    download));
  main.dataset.loaded = "true";
}
