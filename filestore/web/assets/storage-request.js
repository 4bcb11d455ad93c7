/**
 * One request to storage through a presigned URL (S3, or the local server's `/_blobs`), by
 * XMLHttpRequest because fetch cannot report how much of a request body has been sent.
 * The API token is never sent there: the URL carries its own signature.
 */

/**
 * @typedef {object} StorageAnswer
 * @property {number} status  the HTTP status; 0 when no answer came (network down, connection lost)
 * @property {string} text    the body (S3 answers errors with an XML document)
 * @property {(name: string) => string | null} header
 */

/**
 * Send `body` to `url`; resolves with storage's answer whatever its status, rejects only when
 * `signal` aborts it (with the signal's reason).
 * @param {"POST" | "PUT"} method
 * @param {string} url
 * @param {XMLHttpRequestBodyInit} body
 * @param {{headers?: Record<string, string>, onProgress?: (sent: number) => void, signal?: AbortSignal}} [options]
 * @returns {Promise<StorageAnswer>}
 */
export function sendToStorage(method, url, body, { headers = {}, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    const abort = () => xhr.abort();
    signal?.addEventListener("abort", abort, { once: true });
    const settle = (/** @type {StorageAnswer | null} */ answer) => {
      signal?.removeEventListener("abort", abort);
      if (answer) resolve(answer);
      else reject(signal?.reason ?? new DOMException("The upload was cancelled.", "AbortError"));
    };
    const failed = () => settle({ status: 0, text: "", header: () => null });
    if (onProgress) xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () =>
      settle({ status: xhr.status, text: xhr.responseText, header: (name) => xhr.getResponseHeader(name) });
    xhr.onerror = failed;
    xhr.ontimeout = failed;
    xhr.onabort = () => (signal?.aborted ? settle(null) : failed());
    xhr.send(body);
  });
}

/**
 * S3's error code and message from an error answer (an XML `<Error>` document), else the status.
 * @param {StorageAnswer} answer
 * @returns {{code: string, message: string}}
 */
export function storageError(answer) {
  const pick = (/** @type {string} */ tag) => {
    const found = answer.text.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`));
    return found ? unescapeXml(found[1]) : "";
  };
  if (answer.status === 0) return { code: "NetworkError", message: "the connection to storage was lost" };
  return { code: pick("Code"), message: pick("Message") || `HTTP ${answer.status}` };
}

/** @param {string} text */
function unescapeXml(text) {
  return text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}
