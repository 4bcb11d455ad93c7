// Uploads in progress: the "Upload" file picker, drag and drop anywhere on the page, and a row per
// file with a progress bar, speed and Cancel. The bytes go through the upload engine (upload.js).

import { h } from "./dom.js";
import { humanSize, humanSpeed } from "./format.js";
import { alertProblem, notify } from "./notices.js";
import { abandonUpload, resumableUploads, uploadFile } from "./upload.js";

const STORED_POLL_MS = 1500;
const STORED_WAIT_MS = 120000;

/**
 * The uploads panel. `folderId()` says where new files go; `onStored(upload)` is called once a
 * file is stored. Returns `{control, panel, stored(upload), failed(upload), showPending(api)}`.
 */
/** What a row says of an upload's progress (`UploadProgress` of the engine). */
export function describe({ phase, loaded, total, bytesPerSecond, waiting }) {
  if (waiting === "offline") return `Waiting for the connection… (${humanSize(loaded)} of ${humanSize(total)})`;
  if (waiting === "retry") return `Storage is busy; trying again… (${humanSize(loaded)} of ${humanSize(total)})`;
  if (phase === "checksum") return `Preparing: checksum ${humanSize(loaded)} of ${humanSize(total)}`;
  return `${humanSize(loaded)} of ${humanSize(total)} · ${humanSpeed(bytesPerSecond || 0)}`;
}

export function createUploads(api, { folderId, onStored }) {
  const list = h("ul", { class: "uploads", "aria-label": "Files being sent" });
  const panel = h("section", { class: "uploads-panel", "aria-label": "Transfers", hidden: true }, list);
  const waiting = new Map(); // upload id → resolve(upload) once stored (or failed)

  const input = h("input", { type: "file", multiple: true, id: "upload-input", class: "visually-hidden",
    onchange: () => { start([...input.files]); input.value = ""; } });
  const control = h("span", { class: "upload-control" },
    input, h("label", { for: "upload-input", class: "button primary" }, "Upload"));

  function updateVisibility() {
    panel.hidden = list.children.length === 0;
  }

  function rowFor(name, size) {
    const bar = h("progress", { max: size || 1, value: 0, "aria-label": `Sending ${name}` });
    const text = h("span", { class: "muted" }, `0 B of ${humanSize(size)}`);
    const cancel = h("button", { type: "button", "aria-label": `Cancel ${name}` }, "Cancel");
    const row = h("li", { class: "row upload" }, h("span", { class: "name" }, name), bar, text, cancel);
    list.prepend(row);
    updateVisibility();
    const remove = () => { row.remove(); updateVisibility(); };
    return { row, bar, text, cancel, remove };
  }

  function untilStored(upload) {
    return new Promise((resolve) => {
      waiting.set(upload.id, resolve);
      const started = Date.now();
      const poll = async () => {
        if (!waiting.has(upload.id)) return;
        try {
          const now = await api.getUpload(upload.id);
          if (now.status !== "pending") return settle(now);
        } catch { /* gone or offline: the socket or a later poll says */ }
        if (Date.now() - started < STORED_WAIT_MS) setTimeout(poll, STORED_POLL_MS);
        else settle(null);
      };
      setTimeout(poll, STORED_POLL_MS);
    });
  }

  function settle(upload) {
    const resolve = upload && waiting.get(upload.id);
    if (resolve) { waiting.delete(upload.id); resolve(upload); }
  }

  async function one(file) {
    // A row of this file's unfinished upload (from before a reload) gives way: this resumes it.
    list.querySelectorAll(".unfinished").forEach((row) => {
      if (row.dataset.name === file.name && Number(row.dataset.size) === file.size) row.remove();
    });
    const ui = rowFor(file.name, file.size);
    const controller = new AbortController();
    ui.cancel.addEventListener("click", () => controller.abort());
    try {
      const upload = await uploadFile(api, file, {
        folderId: folderId(),
        signal: controller.signal,
        onProgress: (progress) => { ui.bar.max = progress.total || 1; ui.bar.value = progress.loaded; ui.text.textContent = describe(progress); },
      });
      ui.text.textContent = "Checking…";
      ui.cancel.remove();
      const final = upload.status === "pending" ? await untilStored(upload) : upload;
      ui.remove();
      if (final?.status === "stored") {
        onStored(final);
        notify(`Uploaded ${final.name}.`);
      } else if (final?.status === "failed") {
        alertProblem(`${file.name} failed: what arrived did not match the file. Upload it again.`);
      }
    } catch (error) {
      ui.remove();
      if (error?.name === "AbortError") notify(`Cancelled ${file.name}.`);
      else alertProblem(`${file.name}: ${error.message}`);
    }
  }

  function start(files) {
    for (const file of files) one(file);
  }

  // Drop files anywhere on the page.
  let depth = 0;
  const hasFiles = (event) => event.dataTransfer?.types?.includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (hasFiles(event)) { depth += 1; document.body.classList.add("dropping"); }
  });
  document.addEventListener("dragleave", (event) => {
    if (hasFiles(event) && --depth <= 0) { depth = 0; document.body.classList.remove("dropping"); }
  });
  document.addEventListener("dragover", (event) => { if (hasFiles(event)) event.preventDefault(); });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    document.body.classList.remove("dropping");
    start([...event.dataTransfer.files]);
  });

  /** Unfinished uploads the API knows of (a reload, another tab or device): shown with Cancel;
   * those this browser can resume say so (choosing the same file again sends only what is missing). */
  async function showPending() {
    const { items } = await api.pendingUploads();
    const resumable = new Map(resumableUploads().map((record) => [record.id, record]));
    for (const upload of items) {
      if (waiting.has(upload.id)) continue;
      const record = resumable.get(upload.id);
      const ui = rowFor(upload.name, upload.size);
      Object.assign(ui.row.dataset, { name: upload.name, size: String(upload.size) });
      ui.row.classList.add("unfinished");
      ui.bar.removeAttribute("value");
      ui.text.textContent = record
        ? `Unfinished: choose ${upload.name} again to resume it.`
        : "Unfinished (started elsewhere or still arriving).";
      ui.cancel.addEventListener("click", async () => {
        await (record ? abandonUpload(api, record) : api.deleteUpload(upload.id)).catch(() => {});
        waiting.delete(upload.id);
        ui.remove();
      });
      waiting.set(upload.id, (now) => { ui.remove(); if (now?.status === "stored") onStored(now); });
    }
  }

  return { control, panel, start, stored: settle, failed: settle, showPending };
}
