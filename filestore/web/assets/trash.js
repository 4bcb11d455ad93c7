// The trash (`#/trash`): what was deleted, most recent first, with Restore and Delete forever,
// and a button that empties it.

import { h, replace } from "./dom.js";
import { confirmAction } from "./dialog.js";
import { humanDate, humanSize } from "./format.js";
import { attempt, notify } from "./notices.js";

/** The trash view inside `main`; returns `{reload}`. */
export function createTrashView(api, { main, onChange }) {
  const list = h("ul", { class: "files", "aria-label": "Trash" });
  const more = h("button", { type: "button", hidden: true, onclick: () => attempt(() => load(cursor)) }, "Show more");
  const empty = h("p", { class: "muted empty", hidden: true }, "The trash is empty.");
  let cursor = null;

  const emptyAll = h("button", { type: "button", class: "danger", onclick: () => attempt(async () => {
    if (await confirmAction("Empty the trash?", "Everything in the trash will be deleted forever. This cannot be undone.", "Empty trash")) {
      await api.emptyTrash();
      notify("The trash is empty.");
      onChange();
      await reload();
    }
  }) }, "Empty trash");

  replace(main,
    h("div", { class: "toolbar" },
      h("nav", { class: "crumbs", "aria-label": "Folders" }, h("ol", {},
        h("li", {}, h("a", { href: "#/" }, "All files")), h("li", {}, h("span", { "aria-current": "page" }, "Trash")))),
      h("div", { class: "tools" }, emptyAll)),
    h("p", { class: "muted" }, "Items in the trash count towards your storage until they are deleted forever or purged."),
    list, more, empty);

  function row(item) {
    const what = item.kind === "folder" ? "Folder" : humanSize(item.size);
    return h("li", { class: `row ${item.kind}`, "data-id": item.id },
      h("span", { class: "icon", "aria-hidden": "true" }),
      h("span", { class: "name" }, item.name),
      h("span", { class: "meta" }, h("span", {}, what),
        h("span", {}, `deleted ${humanDate(item.trashed_at)}, purged ${humanDate(item.purge_at)}`)),
      h("span", { class: "actions" },
        h("button", { type: "button", "aria-label": `Restore ${item.name}`, onclick: () => attempt(async () => {
          await api.restore(item.id);
          notify(`Restored ${item.name}.`);
          onChange();
          await reload();
        }) }, "Restore"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete forever ${item.name}`, onclick: () => attempt(async () => {
          if (await confirmAction(`Delete ${item.name} forever?`, "This cannot be undone.", "Delete forever")) {
            await api.deleteForever(item.id);
            notify(`Deleted ${item.name} forever.`);
            onChange();
            await reload();
          }
        }) }, "Delete forever")));
  }

  let generation = 0;
  async function load(from) {
    const mine = generation;
    const page = await api.listTrash(from || undefined);
    if (mine !== generation) return; // a newer reload is under way
    list.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
    emptyAll.disabled = list.children.length === 0;
    main.dataset.loaded = "true";
  }

  async function reload() {
    generation += 1;
    replace(list);
    await attempt(() => load(null));
  }

  return { reload, loaded: reload(), apply: () => attempt(reload) };
}
