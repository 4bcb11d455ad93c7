// A minimal stand-in for the upload engine: one presigned POST per file, with progress and
// cancel. The full engine (multipart in parallel parts, resume after a reload, retries) replaces
// this module with the same exports: uploadFile(api, file, options) and resumableUploads().

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function post(form, file, { onProgress, signal }) {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append("file", file);
    const xhr = new XMLHttpRequest();
    const started = performance.now();
    xhr.upload.addEventListener("progress", (event) => {
      const seconds = (performance.now() - started) / 1000;
      onProgress?.({ loaded: event.loaded, total: event.total, bytesPerSecond: seconds ? event.loaded / seconds : 0 });
    });
    xhr.addEventListener("load", () => (xhr.status < 300 ? resolve()
      : reject(new Error(`Storage refused the file (${xhr.status}).`))));
    xhr.addEventListener("error", () => reject(new Error("The upload was cut off. Check your connection and try again.")));
    xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelled", "AbortError")));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.open(form.method || "POST", form.url);
    xhr.send(body);
  });
}

/** Upload `file` into `folderId`; resolves with the (pending) Upload once its bytes are sent. */
export async function uploadFile(api, file, { folderId = null, onProgress, signal } = {}) {
  const body = {
    name: file.name, size: file.size, content_type: file.type || "application/octet-stream",
    sha256: await sha256Hex(file),
  };
  if (folderId) body.folder_id = folderId;
  const ticket = await api.post("/uploads", body, { signal });
  if (!ticket.upload_url) {
    await api.del(`/uploads/${ticket.upload.id}`);
    throw new Error(`${file.name} is too large for this page's uploader; use the CLI (filestore upload).`);
  }
  try {
    await post(ticket.upload_url, file, { onProgress, signal });
  } catch (error) {
    api.del(`/uploads/${ticket.upload.id}`).catch(() => {});
    throw error;
  }
  return ticket.upload;
}

/** Uploads this browser started and could resume (none: this uploader does not resume). */
export function resumableUploads() {
  return [];
}
