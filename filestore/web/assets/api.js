// The one place that talks to the filestore HTTP API: the bearer token on every call, errors
// turned into messages a person can act on, a waking service (503 + Retry-After) retried by
// itself, and an expired session (401) signed in again without losing what was on screen.

const MAX_WAKE_RETRIES = 6;
const MAX_RETRY_AFTER_S = 30;

/** An API call that failed; `message` is written for the person using the app. */
export class ApiError extends Error {
  constructor(message, status = 0, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** What to tell a person about an answer with `status` and the API's `{message}` body. */
export function messageFor(status, body) {
  const said = body && typeof body.message === "string" ? body.message : "";
  if (status === 401) return "Your session has expired. Sign in again to carry on.";
  if (status === 404) return "That is no longer there: it was deleted, moved to the trash, or never existed.";
  if (status === 409) return said || "That clashes with something that already exists.";
  if (status === 413) {
    return said && said !== "Request Entity Too Large"
      ? said
      : "Too large: the file is over the size limit or your storage is full. Free some space or pick a smaller file.";
  }
  if (status === 503) return "The service is waking up. Try again in a moment.";
  if (status >= 500) return "Something went wrong on our side. Try again in a moment.";
  return said || `The request failed (${status}).`;
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), within bounds. */
export function retryAfterSeconds(header, now = Date.now()) {
  if (!header) return 2;
  const seconds = Number(header);
  const wait = Number.isFinite(seconds) ? seconds : (Date.parse(header) - now) / 1000;
  if (!Number.isFinite(wait)) return 2;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, wait));
}

function offlineError() {
  return navigator.onLine === false
    ? new ApiError("You are offline. Your changes will work again once you are back online.", 0)
    : new ApiError("Cannot reach filestore. Check your connection and try again.", 0);
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
});

/**
 * The API client. `session` gives `token()` (a valid token, or null when signed out) and
 * `signInAgain()` (resolves once the person has signed in again); `onWaiting(seconds)` is told
 * while a waking service is retried.
 */
export function createApi({ baseUrl = "", session = null, onWaiting = () => {} } = {}) {
  async function send(method, path, { body, query, signal, auth = true } = {}) {
    const url = new URL(baseUrl + path, location.origin);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    for (let attempt = 0, renewed = false; ; attempt += 1) {
      const headers = {};
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const token = auth && session ? await session.token() : null;
      if (token) headers.Authorization = `Bearer ${token}`;
      let response;
      try {
        response = await fetch(url, {
          method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw offlineError();
      }
      if (response.status === 401 && auth && session && !renewed) {
        renewed = true;
        await session.signInAgain();
        continue;
      }
      if (response.status === 503 && attempt < MAX_WAKE_RETRIES) {
        const wait = retryAfterSeconds(response.headers.get("Retry-After"));
        onWaiting(wait);
        await sleep(wait * 1000, signal);
        continue;
      }
      const text = response.status === 204 ? "" : await response.text();
      let parsed = null;
      try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
      if (!response.ok) {
        const error = new ApiError(messageFor(response.status, parsed), response.status, parsed);
        if (response.headers.has("Retry-After")) error.retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
        throw error;
      }
      return parsed;
    }
  }

  const api = {
    request: (method, path, body, options = {}) => send(method, path, { ...options, body }),
    get: (path, query, options = {}) => send("GET", path, { ...options, query }),
    post: (path, body, options = {}) => send("POST", path, { ...options, body }),
    patch: (path, body, options = {}) => send("PATCH", path, { ...options, body }),
    del: (path, options = {}) => send("DELETE", path, options),

    me: () => api.get("/me"),
    updateMe: (changes) => api.patch("/me", changes),

    listUploads: (query) => api.get("/uploads", query),
    pendingUploads: () => api.get("/uploads", { status: "pending", limit: 100 }),
    getUpload: (id) => api.get(`/uploads/${encodeURIComponent(id)}`),
    renameUpload: (id, name) => api.patch(`/uploads/${encodeURIComponent(id)}`, { name }),
    moveUpload: (id, folderId) => api.patch(`/uploads/${encodeURIComponent(id)}`, { folder_id: folderId }),
    deleteUpload: (id) => api.del(`/uploads/${encodeURIComponent(id)}`),
    downloadLink: (id) => api.get(`/uploads/${encodeURIComponent(id)}/download`),

    createShare: (id, expiresIn) => api.post(`/uploads/${encodeURIComponent(id)}/shares`, { expires_in: expiresIn }),
    listShares: (id) => api.get(`/uploads/${encodeURIComponent(id)}/shares`),
    revokeShare: (token) => api.del(`/shares/${encodeURIComponent(token)}`),
    openShare: (token) => send("GET", `/shares/${encodeURIComponent(token)}`, { auth: false }),

    listFolders: (parentId, cursor) => api.get("/folders", { parent_id: parentId || "root", cursor, limit: 100 }),
    getFolder: (id) => api.get(`/folders/${encodeURIComponent(id)}`),
    createFolder: (name, parentId) => api.post("/folders", parentId ? { name, parent_id: parentId } : { name }),
    renameFolder: (id, name) => api.patch(`/folders/${encodeURIComponent(id)}`, { name }),
    moveFolder: (id, parentId) => api.patch(`/folders/${encodeURIComponent(id)}`, { parent_id: parentId }),
    deleteFolder: (id) => api.del(`/folders/${encodeURIComponent(id)}`),

    listTrash: (cursor) => api.get("/trash", { cursor }),
    restore: (id) => api.post(`/trash/${encodeURIComponent(id)}/restore`),
    deleteForever: (id) => api.del(`/trash/${encodeURIComponent(id)}`),
    emptyTrash: () => api.del("/trash"),
  };
  return api;
}
