/**
 * A multipart upload's parts: read, hashed, signed in batches, sent several at a time, retried,
 * then completed; the parts storage already has (a resumed upload) are hashed but not sent.
 *
 * Each part is read into memory and hashed there (Web Crypto, off the page's thread), then its
 * bytes are let go and it is sent as a slice of the file: Chromium sends a slice faster than the
 * same bytes as an ArrayBuffer, which its renderer copies on the way out (1 GiB on loopback:
 * ~200 against ~120 MiB/s, and ~2.5 CPU seconds more), and memory holds one part per read in
 * progress, not one per request on the wire.
 * Should the file change between the two reads, storage refuses the part (BadDigest) and the
 * message says so. A few parts are hashed ahead of the ones on the wire, so their URLs can be signed together
 * in one request and a part is ready the moment a connection frees up.
 */

import { bytesSha256, headerValue } from "./checksums.js";
import { UploadError, backoff, isTransient, retryAfterMs, waitToRetry } from "./retry.js";
import { sendToStorage, storageError } from "./storage-request.js";

/** Parts on the wire at once (the CLI sends 4 too). */
const PARALLEL = 4;
/** Parts hashed ahead of those on the wire. */
const AHEAD = 6;
/** Part URLs asked for in one request at most. */
const SIGN_BATCH = 16;
const PART_ATTEMPTS = 6;

/**
 * @typedef {object} PartsJob
 * @property {(method: string, path: string, body?: object) => Promise<any>} call
 * @property {File} file
 * @property {string} id
 * @property {{part_size: number, part_count: number}} plan
 * @property {import("./upload-progress.js").Progress} progress
 * @property {AbortSignal | undefined} signal
 */

/**
 * Send what storage lacks of the upload, then complete it; the completed Upload.
 * @param {PartsJob} job
 */
export async function sendParts({ call, file, id, plan, progress, signal }) {
  const path = `/uploads/${encodeURIComponent(id)}`;
  const partSize = plan.part_size;
  const count = plan.part_count;
  const lengthOf = (/** @type {number} */ n) => Math.max(0, Math.min(partSize, file.size - (n - 1) * partSize));
  /** @type {Map<number, string>} */
  const etags = new Map();
  for (const part of (await call("GET", `${path}/parts`)).parts) etags.set(part.part_number, part.etag);
  const arrived = new Set(etags.keys());

  progress.start("upload");
  progress.add([...arrived].reduce((sum, n) => sum + lengthOf(n), 0));

  const parts = new PartReader(file, partSize, lengthOf);
  const signer = new PartSigner(call, `${path}/parts`, parts, arrived);
  /** @type {Map<number, string>} */
  const sha256s = new Map();
  // Parts already stored are read too: completion checks their SHA-256s against what storage
  // received, so a file changed since the upload began is caught.
  const queue = Array.from({ length: count }, (_, i) => i + 1);
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });

  const worker = async () => {
    while (queue.length) {
      const n = /** @type {number} */ (queue.shift());
      for (const next of queue.filter((m) => !arrived.has(m)).slice(0, AHEAD)) parts.prefetch(next);
      const { slice, sha256 } = await parts.read(n);
      stop.signal.throwIfAborted();
      sha256s.set(n, sha256);
      if (!arrived.has(n)) {
        etags.set(n, await sendPart({ signer, n, slice, sha256, file, progress, signal: stop.signal }));
      }
      parts.release(n);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, count) }, () =>
        worker().catch((error) => {
          stop.abort(error); // the first failure stops the others
          throw error;
        }),
      ),
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
    parts.clear();
  }
  const completed = Array.from({ length: count }, (_, i) => ({
    part_number: i + 1,
    etag: etags.get(i + 1),
    sha256: sha256s.get(i + 1),
  }));
  return call("POST", `${path}/complete`, { parts: completed });
}

/**
 * @param {{signer: PartSigner, n: number, slice: Blob, sha256: string, file: File,
 *   progress: import("./upload-progress.js").Progress, signal: AbortSignal}} part
 * @returns {Promise<string>} the part's ETag
 */
async function sendPart({ signer, n, slice, sha256, file, progress, signal }) {
  const headers = { "x-amz-checksum-sha256": headerValue(sha256) };
  let resigned = false;
  for (let attempt = 1; ; attempt++) {
    const url = await signer.url(n);
    const answer = await sendToStorage("PUT", url, slice, {
      headers,
      signal,
      onProgress: (sent) => progress.sending(n, sent),
    });
    progress.sending(n, 0);
    if (answer.status >= 200 && answer.status < 300) {
      const etag = answer.header("ETag");
      if (!etag) {
        throw new UploadError(
          `Storage took part ${n} of ${file.name} but did not show its ETag (the bucket's CORS rules must expose the ETag header).`,
        );
      }
      progress.add(slice.size);
      signer.used(n);
      return etag;
    }
    const { code, message } = storageError(answer);
    if (code === "BadDigest") {
      throw new UploadError(
        `Part ${n} of ${file.name} arrived corrupted: its SHA-256 does not match the bytes storage received ` +
          `(${message}). Was the file changed while it was uploading?`,
        { status: answer.status, code },
      );
    }
    if (answer.status === 403 && !resigned) {
      // The URL expired (a part that waited long for a retry): sign it again, once.
      resigned = true;
      signer.used(n);
      continue;
    }
    if (!isTransient(answer.status) || attempt >= PART_ATTEMPTS) {
      throw new UploadError(`Storage refused part ${n} of ${file.name}: ${message}`, { status: answer.status, code });
    }
    await waitToRetry(progress, retryAfterMs(answer.header("Retry-After")) ?? backoff(attempt - 1), signal);
  }
}

/** Parts of the file and their SHA-256s, hashed a few ahead of their sending. */
class PartReader {
  /**
   * @param {File} file
   * @param {number} partSize
   * @param {(n: number) => number} lengthOf
   */
  constructor(file, partSize, lengthOf) {
    this.file = file;
    this.partSize = partSize;
    this.lengthOf = lengthOf;
    /** @type {Map<number, Promise<{slice: Blob, sha256: string}>>} */
    this.pending = new Map();
    /** @type {Map<number, string>} the SHA-256s of the parts read and not yet released */
    this.sha256s = new Map();
  }

  /** @param {number} n  start reading and hashing part `n`, unless it is already */
  prefetch(n) {
    if (this.pending.has(n)) return;
    const start = (n - 1) * this.partSize;
    const slice = this.file.slice(start, start + this.lengthOf(n));
    const reading = slice.arrayBuffer().then(async (bytes) => {
      const sha256 = await bytesSha256(bytes);
      if (this.pending.get(n) === reading) this.sha256s.set(n, sha256);
      return { slice, sha256 };
    });
    reading.catch(() => {}); // a prefetch nobody awaits must not be an unhandled rejection
    this.pending.set(n, reading);
  }

  /** @param {number} n */
  async read(n) {
    this.prefetch(n);
    try {
      return await /** @type {Promise<{slice: Blob, sha256: string}>} */ (this.pending.get(n));
    } catch (error) {
      throw new UploadError(`Could not read part ${n} of ${this.file.name}: ${error}. Was the file changed or moved?`, {
        cause: error,
      });
    }
  }

  /** @param {number} n  the part is sent: let its bytes go */
  release(n) {
    this.pending.delete(n);
    this.sha256s.delete(n);
  }

  clear() {
    this.pending.clear();
    this.sha256s.clear();
  }
}

/**
 * Part URLs, signed in batches: asking for one part's URL signs it together with every other
 * part already hashed and not yet signed.
 */
class PartSigner {
  /**
   * @param {(method: string, path: string, body?: object) => Promise<any>} call
   * @param {string} path
   * @param {PartReader} parts
   * @param {Set<number>} arrived
   */
  constructor(call, path, parts, arrived) {
    this.call = call;
    this.path = path;
    this.parts = parts;
    this.arrived = arrived;
    /** @type {Map<number, string>} */
    this.urls = new Map();
    /** @type {Map<number, Promise<void>>} */
    this.signing = new Map();
  }

  /** @param {number} n */
  async url(n) {
    while (!this.urls.has(n)) {
      const inProgress = this.signing.get(n);
      if (inProgress) {
        await inProgress;
        continue;
      }
      await this.sign(n);
    }
    return /** @type {string} */ (this.urls.get(n));
  }

  /** @param {number} n  its URL is used (or expired): the next attempt signs it again */
  used(n) {
    this.urls.delete(n);
  }

  /** @param {number} n */
  async sign(n) {
    const batch = [n];
    for (const m of this.parts.sha256s.keys()) {
      if (batch.length >= SIGN_BATCH) break;
      if (m !== n && !this.arrived.has(m) && !this.urls.has(m) && !this.signing.has(m)) batch.push(m);
    }
    const sha256 = batch.map((m) => /** @type {string} */ (this.parts.sha256s.get(m)));
    const request = this.call("POST", this.path, { part_numbers: batch, sha256 }).then((answer) => {
      for (const part of answer.parts) this.urls.set(part.part_number, part.url);
    });
    for (const m of batch) this.signing.set(m, request);
    try {
      await request;
    } finally {
      for (const m of batch) this.signing.delete(m);
    }
  }
}
