// The file browser: the folder's subfolders and files (newest first unless sorted otherwise),
// more loaded as the end of the list scrolls into view, and every change applied in place —
// the person's own, and those that arrive live from elsewhere.

import { h, replace } from "./dom.js";
import { askName } from "./dialog.js";
import { allFolders, breadcrumbs, chooseFolder } from "./folders.js";
import { fileRow, folderRow } from "./rows.js";
import { compareUploads, defaultOrder, isOlder } from "./order.js";
import { attempt, notify } from "./notices.js";
import { shareDialog } from "./shares.js";

const PAGE = 50;
const COLUMNS = [["name", "Name"], ["size", "Size"], ["created_at", "Date"]];

/** Start a download of `upload` (a presigned link with the file name as attachment). */
async function download(api, upload) {
  const { url } = await api.downloadLink(upload.id);
  const link = h("a", { href: url, download: upload.name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
}

/** The browser of folder `folderId` (null = the root) inside `main`. */
export function createFileView(api, { main, uploads, onChange }) {
  const state = { folderId: null, path: [], sort: "created_at", order: "desc", q: "", cursor: null, loading: false, generation: 0 };
  const files = new Map(); // id → {upload, row}
  // id → the `updated_at` of the newest state seen of each file, shown or dropped (trashed,
  // deleted, elsewhere): a late message about it must not put back what it was before.
  /** @type {Map<string, string>} */
  const versions = new Map();
  const list = h("ul", { class: "files", "aria-label": "Files" });
  const sentinel = h("li", { class: "sentinel", "aria-hidden": "true" });
  const crumbs = h("div", { class: "crumbs-box" });
  const empty = h("p", { class: "muted empty", hidden: true }, "Nothing here yet: drop files on the page or choose Upload.");
  const search = h("input", { type: "search", name: "q", placeholder: "Search all files", "aria-label": "Search", autocomplete: "off" });
  const sorter = h("div", { class: "sorter", role: "group", "aria-label": "Sort by" });

  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = search.value.trim(); reload(); }, 250);
  });

  const newFolder = h("button", { type: "button", onclick: () => attempt(async () => {
    const name = await askName("New folder", "", "Create");
    if (name) {
      await api.createFolder(name, state.folderId);
      await loadFolders();
    }
  }) }, "New folder");

  const layout = [
    h("div", { class: "toolbar" }, crumbs, h("div", { class: "tools" }, search, newFolder, uploads.control,
      h("a", { href: "#/trash", class: "button" }, "Trash"))),
    uploads.panel, sorter, list, empty,
  ];

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) attempt(loadMore);
  }, { rootMargin: "400px" });

  const fileActions = {
    download: (upload) => attempt(() => download(api, upload)),
    rename: (upload) => attempt(async () => {
      const name = await askName(`Rename ${upload.name}`, upload.name);
      if (name && name !== upload.name) upsert(await api.renameUpload(upload.id, name));
    }),
    share: (upload) => shareDialog(api, upload),
    move: (upload) => attempt(async () => {
      const target = await chooseFolder(api, upload.name);
      if (target !== undefined) moved(await api.moveUpload(upload.id, target));
    }),
    remove: (upload) => attempt(async () => {
      await api.deleteUpload(upload.id);
      drop(upload.id);
      onChange();
      notify(`Moved ${upload.name} to the trash.`, { label: "Undo", run: () => attempt(async () => {
        upsert(await api.restore(upload.id));
        onChange();
      }) });
    }),
  };

  const folderActions = {
    rename: (folder) => attempt(async () => {
      const name = await askName(`Rename ${folder.name}`, folder.name);
      if (name && name !== folder.name) { await api.renameFolder(folder.id, name); await loadFolders(); }
    }),
    move: (folder) => attempt(async () => {
      const target = await chooseFolder(api, folder.name, folder.id);
      if (target !== undefined) { await api.moveFolder(folder.id, target); await loadFolders(); }
    }),
    remove: (folder) => attempt(async () => {
      await api.deleteFolder(folder.id);
      await loadFolders();
      notify(`Moved ${folder.name} and everything in it to the trash.`, { label: "Undo", run: () => attempt(async () => {
        await api.restore(folder.id);
        await loadFolders();
      }) });
    }),
    drop: (uploadId, folderId) => attempt(async () => moved(await api.moveUpload(uploadId, folderId))),
  };

  function renderSorter() {
    replace(sorter, COLUMNS.map(([field, label]) => {
      const active = state.sort === field;
      const arrow = active ? (state.order === "asc" ? " ▲" : " ▼") : "";
      return h("button", { type: "button", "aria-pressed": String(active), "aria-label": `Sort by ${label.toLowerCase()}`,
        title: active ? `Sorted ${state.order === "asc" ? "ascending" : "descending"}; again to reverse` : `Sort by ${label.toLowerCase()}`,
        onclick: () => {
          state.order = active ? (state.order === "asc" ? "desc" : "asc") : defaultOrder(field);
          state.sort = field;
          reload();
        } }, label, h("span", { "aria-hidden": "true" }, arrow));
    }));
  }

  function belongs(upload) {
    if (upload.status !== "stored") return false;
    if (state.q) return upload.name.toLowerCase().includes(state.q.toLowerCase());
    return (upload.folder_id || null) === state.folderId;
  }

  /**
   * Record `upload` as the newest state of its file, unless an even newer one was seen;
   * false if it is older (then it is not to be applied).
   * @param {{id: string, updated_at?: string}} upload
   * @returns {boolean}
   */
  function newest(upload) {
    if (isOlder(upload, versions.get(upload.id))) return false;
    if (upload.updated_at) versions.set(upload.id, upload.updated_at);
    return true;
  }

  /** Put `upload` where the listing would have it (or update its row in place), unless a
   * newer state of the file was seen already. */
  function upsert(upload) {
    if (!newest(upload)) return;
    if (!belongs(upload)) return drop(upload.id);
    drop(upload.id);
    const after = [...list.querySelectorAll(":scope > .file")].find((row) =>
      compareUploads(upload, files.get(row.dataset.id).upload, state.sort, state.order) < 0);
    if (!after && state.cursor) return; // it comes with a later page
    const row = fileRow(upload, fileActions);
    files.set(upload.id, { upload, row });
    list.insertBefore(row, after || sentinel);
    empty.hidden = true;
  }

  function drop(id) {
    files.get(id)?.row.remove();
    files.delete(id);
    empty.hidden = files.size > 0 || list.querySelector(".folder") !== null;
  }

  function moved(upload) {
    upsert(upload);
    notify(`Moved ${upload.name}.`);
  }

  async function loadFolders() {
    const generation = state.generation;
    const folders = state.q ? [] : await allFolders(api, state.folderId);
    if (generation !== state.generation) return;
    list.querySelectorAll(".folder").forEach((row) => row.remove());
    const first = list.firstChild;
    for (const folder of folders) {
      list.insertBefore(folderRow(folder, { ...folderActions, drop: (id) => folderActions.drop(id, folder.id) }), first);
    }
    empty.hidden = files.size > 0 || folders.length > 0 || Boolean(state.cursor);
  }

  async function loadMore() {
    if (state.loading || state.cursor === null) return;
    state.loading = true;
    const generation = state.generation;
    try {
      const query = { limit: PAGE, sort: state.sort, order: state.order };
      if (state.cursor !== "") query.cursor = state.cursor;
      if (state.q) query.q = state.q;
      else query.folder_id = state.folderId || "root";
      const page = await api.listUploads(query);
      if (generation !== state.generation) return;
      for (const upload of page.items) {
        if (files.has(upload.id) || !newest(upload)) continue;
        const row = fileRow(upload, fileActions);
        files.set(upload.id, { upload, row });
        list.insertBefore(row, sentinel);
      }
      state.cursor = page.next_cursor;
      empty.hidden = files.size > 0 || list.querySelector(".folder") !== null || Boolean(state.cursor);
      main.dataset.loaded = "true";
    } finally {
      state.loading = false;
    }
    // The sentinel may still be in view (a tall screen): keep going until it is not.
    if (state.cursor) requestAnimationFrame(() => {
      const box = sentinel.getBoundingClientRect();
      if (box.top < innerHeight + 400) attempt(loadMore);
    });
  }

  async function reload() {
    state.generation += 1;
    state.cursor = "";
    files.clear();
    replace(list, sentinel);
    renderSorter();
    main.dataset.loaded = "false";
    await attempt(async () => {
      await Promise.all([loadFolders(), showCrumbs(), loadMore()]);
    });
  }

  async function showCrumbs() {
    if (state.q) return replace(crumbs, h("p", { class: "crumbs" }, `Search: “${state.q}” in all files`));
    state.path = state.folderId ? (await api.getFolder(state.folderId)).path : [];
    replace(crumbs, breadcrumbs(state.path));
  }

  observer.observe(sentinel);

  return {
    /** Put the browser (back) into `main`. */
    mount() { replace(main, ...layout); },
    /** Show folder `folderId` (null = the root). */
    open(folderId) {
      state.folderId = folderId;
      state.q = "";
      search.value = "";
      return reload();
    },
    reload,
    /** Apply one live message `{type, upload|folder}`. */
    apply(message) {
      if (message.upload) {
        const upload = message.upload;
        // Messages may come out of order (a file's `upload.stored` travels the longest way, so
        // it can arrive after a rename or move of the file) and twice: the newest state wins,
        // by `updated_at`, whatever the order of arrival.
        if (!["upload.trashed", "upload.deleted", "upload.failed"].includes(message.type)) upsert(upload);
        else if (newest(upload)) drop(upload.id);
        if (message.type === "upload.stored") uploads.stored(upload);
        if (message.type === "upload.failed") uploads.failed(upload);
      } else if (message.folder) {
        const folder = message.folder;
        const here = (folder.parent_id || null) === state.folderId;
        const onPath = state.path.some((p) => p.id === folder.id);
        if (onPath && ["folder.trashed", "folder.deleted"].includes(message.type)) location.hash = "#/";
        else if (onPath) attempt(showCrumbs);
        if (here || message.type !== "folder.created") attempt(loadFolders);
      }
    },
    get folderId() { return state.folderId; },
  };
}
