/**
 * Unfinished multipart uploads, remembered in localStorage so that choosing the same file again
 * (after a reload or a lost connection: a page cannot reopen a file by itself) resumes it.
 * A file is recognised by its name, size and last-modified time; a changed file is a new one.
 */

const PREFIX = "filestore.upload:";

/**
 * @typedef {object} ResumableUpload
 * @property {string} key           the localStorage key
 * @property {string} id            the upload's id
 * @property {string} name
 * @property {number} size
 * @property {number} lastModified
 * @property {string | null} folderId
 * @property {number} partSize
 * @property {number} partCount
 * @property {string} startedAt     ISO-8601
 */

/** @param {File} file */
export function keyOf(file) {
  return `${PREFIX}${file.size}:${file.lastModified}:${file.name}`;
}

/**
 * @param {File} file
 * @returns {ResumableUpload | null}
 */
export function recall(file) {
  return read(keyOf(file));
}

/**
 * @param {File} file
 * @param {{id: string, folderId: string | null, partSize: number, partCount: number}} upload
 */
export function remember(file, upload) {
  const record = {
    ...upload,
    name: file.name,
    size: file.size,
    lastModified: file.lastModified,
    startedAt: new Date().toISOString(),
  };
  try {
    localStorage.setItem(keyOf(file), JSON.stringify(record));
  } catch {
    // Storage full or disabled: the upload goes on, it just cannot be resumed after a reload.
  }
}

/** @param {string} key */
export function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing remembered where storage is disabled.
  }
}

/**
 * The unfinished multipart uploads this browser remembers, oldest first. (Another user's, on a
 * shared browser, are listed too: the API answers 404 for them, and they are forgotten then.)
 * @returns {ResumableUpload[]}
 */
export function resumableUploads() {
  const found = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      const record = key?.startsWith(PREFIX) ? read(key) : null;
      if (record) found.push(record);
    }
  } catch {
    return [];
  }
  return found.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/**
 * @param {string} key
 * @returns {ResumableUpload | null}
 */
function read(key) {
  try {
    const record = JSON.parse(localStorage.getItem(key) ?? "null");
    return record && typeof record.id === "string" ? { ...record, key } : null;
  } catch {
    return null;
  }
}
