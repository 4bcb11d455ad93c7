/**
 * The SHA-256s an upload declares, computed as the CLI computes them: the whole file's (sent
 * with `POST /uploads` for a file that goes up in one request) and each part's (signed into the
 * part's URL and sent with the part as `x-amz-checksum-sha256`, which storage checks the bytes
 * against as they arrive).
 *
 * Web Crypto has no incremental digest: a file up to `ONE_SHOT_LIMIT` is read whole and hashed
 * natively in one call; a larger one is hashed in a worker by an incremental SHA-256 compiled to
 * WebAssembly (hash-wasm), reading it in chunks, so memory stays bounded whatever its size.
 */

const MiB = 1024 * 1024;

/** Up to this size a file is read into memory and hashed by Web Crypto (the fastest way). */
export const ONE_SHOT_LIMIT = 256 * MiB;

/** How much of a large file the worker reads at a time. */
const CHUNK = 8 * MiB;

/**
 * The hex SHA-256 of `file`.
 * @param {Blob} file
 * @param {{signal?: AbortSignal, onProgress?: (hashed: number) => void, oneShotLimit?: number}} [options]
 *   `oneShotLimit`: the largest file hashed in one call (default `ONE_SHOT_LIMIT`)
 * @returns {Promise<string>}
 */
export async function fileSha256(file, { signal, onProgress, oneShotLimit = ONE_SHOT_LIMIT } = {}) {
  signal?.throwIfAborted();
  if (file.size <= oneShotLimit) {
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    signal?.throwIfAborted();
    onProgress?.(file.size);
    return toHex(digest);
  }
  return hashInWorker(file, signal, onProgress);
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
 * @param {AbortSignal | undefined} signal
 * @param {((hashed: number) => void) | undefined} onProgress
 * @returns {Promise<string>}
 */
function hashInWorker(file, signal, onProgress) {
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
      else resolve(data.sha256);
    };
    worker.onerror = (event) => {
      finish();
      reject(new Error(`The SHA-256 worker failed: ${event.message || "it could not start"}`));
    };
    worker.postMessage({ file, chunk: CHUNK });
  });
}
