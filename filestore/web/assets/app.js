// The app's entry: read config.json, then show either a share's page (`/s/<token>`) or, once
// signed in, the file browser (`#/`, `#/f/<folder id>`) or the trash (`#/trash`), kept live over
// the WebSocket.

import { createApi } from "./api.js";
import { createSession } from "./auth.js";
import { showAccount } from "./account.js";
import { createFileView } from "./files.js";
import { connectLive } from "./live.js";
import { alertProblem, notify } from "./notices.js";
import { showSharePage } from "./share_page.js";
import { askEmail, askToken } from "./signin.js";
import { createTrashView } from "./trash.js";
import { createUploads } from "./uploads.js";
import { h, replace } from "./dom.js";

const main = document.getElementById("main");

/** config.json, with same-origin URLs made relative to the page (localhost vs 127.0.0.1). */
async function loadConfig() {
  const response = await fetch("/config.json", { cache: "no-cache" });
  if (!response.ok) throw new Error("Cannot load the app's configuration (config.json). Reload the page.");
  const config = await response.json();
  if (!config.api_url) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    if (config.ws_url) config.ws_url = `${scheme}//${location.host}${new URL(config.ws_url).pathname}`;
    if (config.auth?.sign_in_url) config.auth.sign_in_url = new URL(config.auth.sign_in_url, location.href).pathname;
  }
  return config;
}

/** The route in the fragment: {view: "files", folderId} or {view: "trash"}. */
export function route(hash) {
  const path = hash.replace(/^#/, "");
  if (path === "/trash") return { view: "trash" };
  const folder = path.match(/^\/f\/([^/]+)$/);
  return { view: "files", folderId: folder ? decodeURIComponent(folder[1]) : null };
}

async function fileBrowser(config) {
  const session = createSession(config.auth, {
    askEmail: (problem) => signInView((box) => askEmail(box, problem)),
    askToken: (problem) => signInView((box) => askToken(box, problem)),
  });
  await session.completeRedirect();
  if (!session.signedIn()) {
    await session.signIn();
  }
  const api = createApi({
    baseUrl: config.api_url || "",
    session,
    onWaiting: (seconds) => notify(`The service is waking up; trying again in ${Math.round(seconds)} s…`),
  });
  browsing = true;
  const refreshAccount = showAccount(document.getElementById("account"), api, session);
  let view = null;
  const uploads = createUploads(api, {
    folderId: () => view?.folderId ?? null,
    onStored: (upload) => { files.apply({ type: "upload.stored", upload }); refreshAccount(); },
  });
  const files = createFileView(api, { main, uploads, onChange: refreshAccount });
  const onChange = () => refreshAccount();

  function show() {
    const where = route(location.hash);
    if (where.view === "trash") {
      view = createTrashView(api, { main, onChange });
      view.folderId = null;
      return view.loaded;
    }
    if (view !== files) { view = files; files.mount(); }
    return files.open(where.folderId);
  }
  window.addEventListener("hashchange", show);
  // The first view loaded, the session is known good (renewed if the first calls found it
  // expired): only then open the socket, whose handshake cannot renew anything.
  await show();
  uploads.showPending().catch(() => {});

  if (config.ws_url) {
    connectLive(config.ws_url, {
      token: () => session.token(),
      onMessage: (message) => {
        view.apply(message);
        if (view !== files && message.upload) uploads.stored(message.upload);
        refreshAccount();
      },
      onState: (state, { reconnected }) => {
        document.body.dataset.live = state;
        if (state === "open" && reconnected) view.reload(); // catch up on what was missed
      },
    });
  }
}

let browsing = false; // once the browser is on screen, signing in again must not replace it

/** Show a sign-in form (in place of the page at first; later in a dialog over it, so nothing
 * on screen is lost); returns what `ask(box)` resolves with. */
async function signInView(ask) {
  if (!browsing) {
    const answer = await ask(main);
    replace(main, h("p", { class: "muted" }, "Signing in…"));
    return answer;
  }
  const box = h("div");
  const dialog = h("dialog", { class: "dialog", "aria-label": "Sign in again" },
    h("p", {}, "Your session has expired. Sign in again to carry on."), box);
  dialog.addEventListener("cancel", (event) => event.preventDefault()); // signing in is needed
  document.body.append(dialog);
  dialog.showModal();
  try {
    return await ask(box);
  } finally {
    dialog.remove();
  }
}

async function start() {
  try {
    const config = await loadConfig();
    const share = location.pathname.match(/^\/s\/([^/]+)\/?$/);
    if (share) {
      await showSharePage(createApi({ baseUrl: config.api_url || "" }), main, decodeURIComponent(share[1]));
      return;
    }
    await fileBrowser(config);
  } catch (error) {
    alertProblem(error.message || String(error));
  }
}

window.addEventListener("offline", () => alertProblem("You are offline. Changes will work again once you are back online.", 10000));
window.addEventListener("online", () => notify("Back online."));
start();
