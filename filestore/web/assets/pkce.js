// OAuth 2.0 PKCE (RFC 7636): a random verifier and its S256 challenge, with WebCrypto.

/** base64url without padding, as PKCE and JWTs write bytes. */
export function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random string of `size` bytes' worth, base64url (43 characters for 32 bytes). */
export function randomString(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(digest);
}

/** The claims of a JWT (not verified: the API verifies; the app only reads e-mail and expiry). */
export function jwtClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(part + "=".repeat((4 - (part.length % 4)) % 4));
    return JSON.parse(decodeURIComponent(escape(text)));
  } catch {
    return {};
  }
}
