// One row of the file list per file or folder: its name, what it is, and its action buttons
// (named "Download", "Rename", "Share", "Move", "Delete", each followed by the item's name).

import { h } from "./dom.js";
import { humanDate, humanSize } from "./format.js";

function action(label, name, run) {
  return h("button", { type: "button", "aria-label": `${label} ${name}`, onclick: run }, label);
}

/** A file's row; `on` holds the handlers: download, rename, share, move, remove. */
export function fileRow(upload, on) {
  const row = h("li", { class: "row file", "data-id": upload.id, draggable: "true" },
    h("span", { class: "icon", "aria-hidden": "true" }),
    h("span", { class: "name" }, upload.name),
    h("span", { class: "meta" },
      h("span", { class: "size" }, humanSize(upload.size)),
      h("time", { datetime: upload.created_at }, humanDate(upload.created_at))),
    h("span", { class: "actions" },
      action("Download", upload.name, () => on.download(upload)),
      action("Rename", upload.name, () => on.rename(upload)),
      action("Share", upload.name, () => on.share(upload)),
      action("Move", upload.name, () => on.move(upload)),
      action("Delete", upload.name, () => on.remove(upload))));
  row.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("application/x-filestore-upload", upload.id);
    event.dataTransfer.effectAllowed = "move";
  });
  return row;
}

/** A folder's row: its name opens it; `on` holds rename, move, remove and drop(uploadId). */
export function folderRow(folder, on) {
  const row = h("li", { class: "row folder", "data-id": folder.id },
    h("span", { class: "icon", "aria-hidden": "true" }),
    h("a", { class: "name", href: `#/f/${encodeURIComponent(folder.id)}` }, folder.name),
    h("span", { class: "meta" }, h("span", {}, "Folder")),
    h("span", { class: "actions" },
      action("Rename", folder.name, () => on.rename(folder)),
      action("Move", folder.name, () => on.move(folder)),
      action("Delete", folder.name, () => on.remove(folder))));
  // Dropping a file's row here moves the file into this folder.
  row.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes("application/x-filestore-upload")) {
      event.preventDefault();
      row.classList.add("target");
    }
  });
  row.addEventListener("dragleave", () => row.classList.remove("target"));
  row.addEventListener("drop", (event) => {
    const id = event.dataTransfer.getData("application/x-filestore-upload");
    row.classList.remove("target");
    if (id) {
      event.preventDefault();
      event.stopPropagation();
      on.drop(id);
    }
  });
  return row;
}
