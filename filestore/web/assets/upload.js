/**
 * The browser's upload engine: one File to filestore, sent as the CLI sends it.
 *
 * Every upload declares `"checksum_algorithm": "sha256"` with `POST /uploads`, as the CLI does. A
 * file up to the multipart threshold also declares its SHA-256 and goes up in one presigned POST
 * (storage checks it against that SHA-256). A larger one declares no whole-file SHA-256 (its
 * checksum is its parts' composite, so that value would be checked against nothing, and hashing
 * the whole file first would hold the upload back) and goes up in parts, several at a time, each
 * hashed as it is read to be sent, signed with its SHA-256 and sent with it as
 * `x-amz-checksum-sha256` (storage refuses a part whose bytes do not match), then assembled with
 * `POST /uploads/{id}/complete`. Should the API answer a large file with a single-request form
 * (a deployment with a higher threshold), that upload is deleted and the file declared again
 * with its SHA-256. An unfinished multipart upload is remembered in localStorage: choosing the
 * same file again resumes it, sending only the parts that storage does not have
 * (`GET /uploads/{id}/parts`).
 *
 * The engine needs one thing of the app's API client:
 *
 * @typedef {object} Api
 * @property {(method: string, path: string, body?: object) => Promise<any>} request
 *   Calls the HTTP API as the signed-in user (base URL and bearer token are the client's
 *   business). Resolves with the parsed JSON answer (null when it has no body). Rejects with an
 *   Error carrying `status` (the HTTP status; 0 or absent when no answer came) and the API's
 *   `message`, plus `retryAfter` (the Retry-After header, seconds) when the answer had one.
 *   The engine retries a 503 by itself, waiting as Retry-After says.
 *
 * @typedef {import("./upload-progress.js").UploadProgress} UploadProgress
 * @typedef {import("./resumable.js").ResumableUpload} ResumableUpload
 */

import { fileSha256 } from "./checksums.js";
import { sendParts } from "./upload-parts.js";
import { Progress } from "./upload-progress.js";
import { forget, keyOf, recall, remember } from "./resumable.js";
import { UploadError, backoff, isTransient, retryAfterMs, waitToRetry } from "./retry.js";
import { sendToStorage, storageError } from "./storage-request.js";

export { resumableUploads } from "./resumable.js";
export { UploadError } from "./retry.js";

const DEFAULT_TYPE = "application/octet-stream";
/** Above this size a file is declared without its SHA-256 (the API's default threshold, as the CLI). */
export const MULTIPART_THRESHOLD = 100 * 1024 * 1024;
const API_ATTEMPTS = 8;
const POST_ATTEMPTS = 5;

/**
 * Upload `file`, or resume its unfinished multipart upload if this browser remembers one.
 *
 * @param {Api} api
 * @param {File} file
 * @param {object} [options]
 * @param {string | null} [options.folderId]    the folder to store it in (default: the root)
 * @param {"rename" | "fail"} [options.onConflict]  what the API does if the name is taken
 * @param {(progress: UploadProgress) => void} [options.onProgress]  ~10 times a second
 * @param {AbortSignal} [options.signal]        cancels it: requests in flight are aborted and the
 *   upload is deleted on the server, unless `keepOnCancel` (a multipart upload then stays
 *   resumable); the promise rejects with the signal's reason
 * @param {boolean} [options.keepOnCancel]
 * @param {number} [options.multipartThreshold]  above this size the file is expected to go up in
 *   parts and is not hashed whole (default `MULTIPART_THRESHOLD`, the API's default)
 * @returns {Promise<object>} the Upload as the API answers it: `pending` after a single
 *   request (it turns `stored` once storage reports it, as the WebSocket tells), `stored` after
 *   a multipart upload is completed
 */
export async function uploadFile(
  api,
  file,
  { folderId = null, onConflict, onProgress, signal, keepOnCancel = false, multipartThreshold = MULTIPART_THRESHOLD } = {},
) {
  signal?.throwIfAborted();
  const progress = new Progress(file.size, onProgress);
  /** @type {(method: string, path: string, body?: object) => Promise<any>} */
  const call = (method, path, body) => callApi(api, method, path, body, signal, progress);
  /** @type {{id: string, multipart: boolean} | null} */
  let started = null;
  try {
    const resumed = await resumable(call, file);
    if (resumed && resumed.status !== "pending") return resumed;
    if (resumed) {
      const record = /** @type {ResumableUpload} */ (recall(file));
      started = { id: resumed.id, multipart: true };
      const plan = { part_size: record.partSize, part_count: record.partCount };
      return await finishParts(call, file, resumed.id, plan, progress, signal);
    }
    /** @type {Record<string, unknown>} */
    const body = {
      name: file.name,
      size: file.size,
      content_type: file.type || DEFAULT_TYPE,
      checksum_algorithm: "sha256",
    };
    if (folderId) body.folder_id = folderId;
    if (onConflict) body.on_conflict = onConflict;
    const withSha256 = async () => {
      progress.start("checksum");
      return { ...body, sha256: await fileSha256(file, { signal, onProgress: (hashed) => progress.set(hashed) }) };
    };
    const multipart = file.size > multipartThreshold;
    let ticket = await call("POST", "/uploads", multipart ? body : await withSha256());
    started = { id: ticket.upload.id, multipart: !ticket.upload_url };
    if (ticket.upload_url && multipart) {
      // This deployment takes files this big in one request, and its form is signed with what
      // was declared: drop that upload and declare the file again, with its SHA-256.
      started = null;
      await discard(api, ticket.upload.id, keyOf(file));
      ticket = await call("POST", "/uploads", await withSha256());
      started = { id: ticket.upload.id, multipart: !ticket.upload_url };
    }
    if (ticket.upload_url) {
      await postFile(file, ticket.upload_url, progress, signal);
      return ticket.upload;
    }
    const { part_size: partSize, part_count: partCount } = ticket.multipart;
    remember(file, { id: ticket.upload.id, folderId, partSize, partCount });
    return await finishParts(call, file, ticket.upload.id, ticket.multipart, progress, signal);
  } catch (error) {
    if (signal?.aborted && started && !(started.multipart && keepOnCancel)) {
      await discard(api, started.id, keyOf(file));
    }
    throw signal?.aborted ? signal.reason : error;
  }
}

/**
 * Forget an unfinished upload and delete it on the server (its parts, and the bytes they count
 * against the quota). Deleting one already gone is not an error.
 * @param {Api} api
 * @param {ResumableUpload} upload  one of `resumableUploads()`
 */
export async function abandonUpload(api, upload) {
  await discard(api, upload.id, upload.key);
}

/**
 * @param {Api} api
 * @param {string} id
 * @param {string} key
 */
async function discard(api, id, key) {
  forget(key);
  try {
    await api.request("DELETE", `/uploads/${encodeURIComponent(id)}`);
  } catch (error) {
    // Gone already (404), or the network is down: an upload never completed expires by itself.
    if (/** @type {any} */ (error)?.status !== 404) console.warn("could not delete the cancelled upload", error);
  }
}

/**
 * The upload this browser remembers for `file`, as the API has it now; null (and forgotten)
 * if it is gone or no longer resumable. A stored one means its completion went through but the
 * answer was lost: it is returned, and not uploaded again.
 * @param {(method: string, path: string, body?: object) => Promise<any>} call
 * @param {File} file
 */
async function resumable(call, file) {
  const record = recall(file);
  if (!record) return null;
  let upload = null;
  try {
    upload = await call("GET", `/uploads/${encodeURIComponent(record.id)}`);
  } catch (error) {
    if (/** @type {any} */ (error)?.status !== 404) throw error;
  }
  if (upload && (upload.status === "pending" || upload.status === "stored") && upload.size === file.size) {
    if (upload.status === "stored") forget(record.key);
    return upload;
  }
  forget(record.key);
  return null;
}

/**
 * @param {(method: string, path: string, body?: object) => Promise<any>} call
 * @param {File} file
 * @param {string} id
 * @param {{part_size: number, part_count: number}} plan
 * @param {Progress} progress
 * @param {AbortSignal | undefined} signal
 */
async function finishParts(call, file, id, plan, progress, signal) {
  const upload = await sendParts({ call, file, id, plan, progress, signal });
  forget(keyOf(file));
  if (upload.status === "failed") {
    throw new UploadError(`${file.name} was refused by storage once assembled (its size or checksum did not match).`);
  }
  return upload;
}

/**
 * The presigned POST: the policy's fields, then the file (S3 wants it last). Retried when
 * storage is busy (503) or the connection drops; refused otherwise with storage's message.
 * @param {File} file
 * @param {{url: string, fields: Record<string, string>}} form
 * @param {Progress} progress
 * @param {AbortSignal | undefined} signal
 */
async function postFile(file, form, progress, signal) {
  progress.start("upload");
  for (let attempt = 1; ; attempt++) {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append("file", file);
    const answer = await sendToStorage("POST", form.url, body, {
      signal,
      onProgress: (sent) => progress.sending(0, Math.min(sent, file.size)),
    });
    progress.sending(0, 0);
    if (answer.status >= 200 && answer.status < 300) {
      progress.add(file.size);
      return;
    }
    const { code, message } = storageError(answer);
    if (!isTransient(answer.status) || attempt >= POST_ATTEMPTS) {
      throw new UploadError(`Storage refused ${file.name}: ${message}`, { status: answer.status, code });
    }
    await waitToRetry(progress, retryAfterMs(answer.header("Retry-After")) ?? backoff(attempt - 1), signal);
  }
}

/**
 * An API call that waits out a 503 (the service waking up: Retry-After says how long) and, for
 * requests that are safe to repeat, a lost connection.
 * @param {Api} api
 * @param {string} method
 * @param {string} path
 * @param {object | undefined} body
 * @param {AbortSignal | undefined} signal
 * @param {Progress} progress
 */
async function callApi(api, method, path, body, signal, progress) {
  // Creating an upload is the one call not repeated blindly after a lost answer: it may have
  // been created, and a second one would hold its bytes against the quota until it expires.
  const repeatable = !(method === "POST" && path === "/uploads");
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await api.request(method, path, body);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const failure = /** @type {any} */ (error);
      // No status: fetch's TypeError is a network failure (0); anything else is not retried.
      const status = typeof failure?.status === "number" ? failure.status : failure instanceof TypeError ? 0 : -1;
      const retry = status === 503 || (repeatable && isTransient(status));
      if (!retry || attempt >= API_ATTEMPTS) throw error;
      const ms = retryAfterMs(failure?.retryAfter) ?? backoff(attempt - 1);
      await waitToRetry(progress, ms, signal);
    }
  }
}
