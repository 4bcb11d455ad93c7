// Hashes one file with an incremental SHA-256 (hash-wasm), off the page's thread: reads the next
// chunk while it hashes this one. With `parts`, each chunk is a part and is hashed on its own too
// (Web Crypto, on a thread of its own meanwhile). Posts {hashed} as it goes, then
// {sha256, parts?} or {error}.
import "./vendor/hash-wasm-4.13.0/sha256.umd.min.js";

const hex = (digest) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");

self.onmessage = async ({ data: { file, chunk, parts } }) => {
  try {
    const hasher = await globalThis.hashwasm.createSHA256();
    hasher.init();
    const partDigests = [];
    let next = file.slice(0, chunk).arrayBuffer();
    for (let offset = 0; offset < file.size; offset += chunk) {
      const bytes = new Uint8Array(await next);
      if (offset + chunk < file.size) next = file.slice(offset + chunk, offset + 2 * chunk).arrayBuffer();
      if (parts) partDigests.push(crypto.subtle.digest("SHA-256", bytes)); // copies the bytes now
      hasher.update(bytes);
      self.postMessage({ hashed: offset + bytes.length });
    }
    const sha256 = hasher.digest("hex");
    self.postMessage({ sha256, parts: parts ? (await Promise.all(partDigests)).map(hex) : undefined });
  } catch (error) {
    self.postMessage({ error: String(error?.message ?? error) });
  }
};
