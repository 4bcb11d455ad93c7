/**
 * Failing and waiting before trying again: what is worth retrying, exponential back-off with
 * jitter, a server's `Retry-After`, and the browser's offline state (nothing is retried while
 * it is offline; it waits to be online).
 */

/** An upload that cannot go on: `message` says why, for a person. */
export class UploadError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, code?: string, cause?: unknown}} [details]
   */
  constructor(message, { status, code, cause } = {}) {
    super(message, { cause });
    this.name = "UploadError";
    this.status = status;
    this.code = code;
  }
}


/**
 * Resolves after `ms`; rejects with the signal's reason if it aborts first.
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * How long to wait before attempt `attempt + 1` (0-based): 0.5 s, 1 s, 2 s … up to 30 s, each
 * between half and all of that, so clients that failed together do not retry together.
 * @param {number} attempt
 */
export function backoff(attempt) {
  const ceiling = Math.min(30_000, 500 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * A `Retry-After` header (seconds or an HTTP date) in milliseconds, or null.
 * @param {string | number | null | undefined} value
 */
export function retryAfterMs(value) {
  if (value === null || value === undefined || value === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.min(seconds, 300)) * 1000;
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? null : Math.max(0, Math.min(date - Date.now(), 300_000));
}

/**
 * Resolves at once while the browser is online, else when it comes back online.
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function whenOnline(signal) {
  if (typeof navigator === "undefined" || navigator.onLine !== false) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stop = () => {
      removeEventListener("online", online);
      reject(signal?.reason);
    };
    const online = () => {
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    addEventListener("online", online, { once: true });
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/** @param {number} status  0 (no answer), busy or briefly failing: worth trying again */
export function isTransient(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/**
 * Wait `ms` (or until the browser is online again), showing why nothing moves meanwhile.
 * @param {{wait: (why: null | "offline" | "retry") => void}} progress
 * @param {number} ms
 * @param {AbortSignal | undefined} signal
 */
export async function waitToRetry(progress, ms, signal) {
  if (typeof navigator !== "undefined" && navigator.onLine === false) {
    progress.wait("offline");
    await whenOnline(signal);
  }
  progress.wait("retry");
  await sleep(ms, signal);
  progress.wait(null);
}

