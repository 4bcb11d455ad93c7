/**
 * The SHA-256s an upload declares, computed as the CLI computes them: the whole file's (sent
 * with `POST /uploads`) and each part's (signed into the part's URL and sent with the part as
 * `x-amz-checksum-sha256`, which storage checks the bytes against as they arrive).
 *
 * Web Crypto has no incremental digest: a file up to `ONE_SHOT_LIMIT` is read whole and hashed
 * natively in one call; a larger one is hashed in a worker by an incremental SHA-256 compiled to
 * WebAssembly (hash-wasm), reading it in chunks, so memory stays bounded whatever its size.
 * Given the part size the API will plan, that pass also hashes each part (in the worker, by Web
 * Crypto on a thread of its own meanwhile), so the parts need no second read to be hashed when
 * they are sent.
 */

const MiB = 1024 * 1024;

/** Up to this size a file is read into memory and hashed by Web Crypto (the fastest way). */
export const ONE_SHOT_LIMIT = 256 * MiB;

/** How much of a large file the worker reads at a time (unless it hashes parts as it goes). */
const CHUNK = 8 * MiB;
/** The largest part the worker hashes as it goes (it holds two chunks in memory). */
const MAX_PART_CHUNK = 64 * MiB;

/**
 * The part size the API plans for a file of `size` bytes: at least 8 MiB, whole MiB, at most
 * 10,000 parts (`filestore.domain.rules.part_size_for`). Only a guess here: the engine uses the
 * part SHA-256s hashed with it only if the API's plan has the same part size.
 * @param {number} size
 */
export function partSizeFor(size) {
  return Math.max(8 * MiB, Math.ceil(Math.ceil(size / 10_000) / MiB) * MiB);
}

/**
 * @typedef {object} FileChecksums
 * @property {string} sha256             the whole file's, hex
 * @property {number | null} partSize    the part size of `partSha256s`
 * @property {string[] | null} partSha256s  each part's, hex, in order (null if not hashed)
 */

/**
 * The hex SHA-256 of `file`, and of its parts of `partSize` bytes where that comes cheap.
 * @param {Blob} file
 * @param {{signal?: AbortSignal, onProgress?: (hashed: number) => void, oneShotLimit?: number,
 *   partSize?: number}} [options]  `oneShotLimit`: the largest file hashed in one call (default
 *   `ONE_SHOT_LIMIT`)
 * @returns {Promise<FileChecksums>}
 */
export async function fileChecksums(file, { signal, onProgress, oneShotLimit = ONE_SHOT_LIMIT, partSize } = {}) {
  signal?.throwIfAborted();
  if (file.size <= oneShotLimit) {
    const bytes = await file.arrayBuffer();
    const sha256 = toHex(await crypto.subtle.digest("SHA-256", bytes));
    // With the bytes at hand, the parts' SHA-256s cost one more native pass (one part at a
    // time: Web Crypto copies what it hashes); a file of one part needs none.
    let partSha256s = null;
    if (partSize !== undefined && file.size > partSize) {
      partSha256s = [];
      for (let start = 0; start < file.size; start += partSize) {
        const part = new Uint8Array(bytes, start, Math.min(partSize, file.size - start));
        partSha256s.push(toHex(await crypto.subtle.digest("SHA-256", part)));
      }
    }
    signal?.throwIfAborted();
    onProgress?.(file.size);
    return { sha256, partSize: partSha256s ? partSize : null, partSha256s };
  }
  const byParts = partSize !== undefined && partSize <= MAX_PART_CHUNK;
  const found = await hashInWorker(file, byParts ? partSize : CHUNK, byParts, signal, onProgress);
  return { sha256: found.sha256, partSize: byParts ? partSize : null, partSha256s: found.parts };
}

/**
 * The hex SHA-256 of `file`.
 * @param {Blob} file
 * @param {{signal?: AbortSignal, onProgress?: (hashed: number) => void, oneShotLimit?: number}} [options]
 * @returns {Promise<string>}
 */
export async function fileSha256(file, options = {}) {
  return (await fileChecksums(file, options)).sha256;
}

/**
 * The hex SHA-256 of some bytes (one part), by Web Crypto (off the page's thread).
 * @param {ArrayBuffer} bytes
 * @returns {Promise<string>}
 */
export async function bytesSha256(bytes) {
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

/**
 * A hex SHA-256 as the `x-amz-checksum-sha256` header carries it: base64 of the 32 bytes.
 * @param {string} hex
 */
export function headerValue(hex) {
  let binary = "";
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

/** @param {ArrayBuffer} digest */
function toHex(digest) {
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * @param {Blob} file
 * @param {number} chunk
 * @param {boolean} parts  whether to hash each chunk too
 * @param {AbortSignal | undefined} signal
 * @param {((hashed: number) => void) | undefined} onProgress
 * @returns {Promise<{sha256: string, parts: string[] | null}>}
 */
function hashInWorker(file, chunk, parts, signal, onProgress) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./sha256-worker.js", import.meta.url), { type: "module" });
    const finish = () => {
      signal?.removeEventListener("abort", cancel);
      worker.terminate();
    };
    const cancel = () => {
      finish();
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", cancel, { once: true });
    worker.onmessage = ({ data }) => {
      if (data.hashed !== undefined) {
        onProgress?.(data.hashed);
        return;
      }
      finish();
      if (data.error) reject(new Error(`Could not read ${file instanceof File ? file.name : "the file"}: ${data.error}`));
      else resolve({ sha256: data.sha256, parts: data.parts ?? null });
    };
    worker.onerror = (event) => {
      finish();
      reject(new Error(`The SHA-256 worker failed: ${event.message || "it could not start"}`));
    };
    worker.postMessage({ file, chunk, parts });
  });
}
