// Hashes one file with an incremental SHA-256 (hash-wasm), off the page's thread: reads the next
// chunk while it hashes this one. Posts {hashed} as it goes, then {sha256} or {error}.
import "./vendor/hash-wasm-4.13.0/sha256.umd.min.js";

self.onmessage = async ({ data: { file, chunk } }) => {
  try {
    const hasher = await globalThis.hashwasm.createSHA256();
    hasher.init();
    let next = file.slice(0, chunk).arrayBuffer();
    for (let offset = 0; offset < file.size; offset += chunk) {
      const bytes = new Uint8Array(await next);
      if (offset + chunk < file.size) next = file.slice(offset + chunk, offset + 2 * chunk).arrayBuffer();
      hasher.update(bytes);
      self.postMessage({ hashed: offset + bytes.length });
    }
    self.postMessage({ sha256: hasher.digest("hex") });
  } catch (error) {
    self.postMessage({ error: String(error?.message ?? error) });
  }
};
