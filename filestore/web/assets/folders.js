// Folders: the breadcrumbs of the folder on screen, and the folder picker of "Move".

import { h, replace } from "./dom.js";
import { openDialog } from "./dialog.js";
import { attempt } from "./notices.js";

/** Fetch every subfolder of `parentId` (null = the root), in name order. */
export async function allFolders(api, parentId) {
  const folders = [];
  let cursor;
  do {
    const page = await api.listFolders(parentId, cursor);
    folders.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return folders;
}

/** The trail from "All files" down to `path`'s last folder (`path` as GET /folders/{id} gives it). */
export function breadcrumbs(path) {
  const trail = [{ id: null, name: "All files" }, ...path];
  return h("nav", { class: "crumbs", "aria-label": "Folders" },
    h("ol", {}, trail.map((folder, index) => h("li", {},
      index === trail.length - 1
        ? h("span", { "aria-current": "page" }, folder.name)
        : h("a", { href: folder.id ? `#/f/${encodeURIComponent(folder.id)}` : "#/" }, folder.name)))));
}

/**
 * Let the person pick a folder to move `itemName` into; resolves with its id (null = the root),
 * or undefined if they cancel. `exclude` is a folder that may not be chosen (or entered).
 */
export function chooseFolder(api, itemName, exclude = null) {
  return openDialog(`Move ${itemName}`, (close) => {
    const where = h("p", { class: "muted" });
    const list = h("ul", { class: "picker", "aria-label": "Folders" });
    const moveHere = h("button", { type: "button", class: "primary" }, "Move here");
    let current = { id: null, path: [] };

    async function show(folderId) {
      const folder = folderId ? await api.getFolder(folderId) : { id: null, path: [] };
      current = folder;
      const folders = (await allFolders(api, folderId)).filter((f) => f.id !== exclude);
      where.textContent = `In: ${["All files", ...folder.path.map((p) => p.name)].join(" / ")}`;
      const up = folder.path.length ? folder.path[folder.path.length - 2]?.id ?? null : undefined;
      replace(list,
        up !== undefined && h("li", {}, h("button", { type: "button", onclick: () => attempt(() => show(up)) }, "↑ Up")),
        folders.map((f) => h("li", {}, h("button", { type: "button", onclick: () => attempt(() => show(f.id)) }, f.name))),
        !folders.length && h("li", { class: "muted" }, "No folders here."));
    }
    moveHere.addEventListener("click", () => close(current.id));
    attempt(() => show(null));
    return [where, list, h("div", { class: "buttons" }, moveHere,
      h("button", { type: "button", onclick: () => close(undefined) }, "Cancel"))];
  });
}
