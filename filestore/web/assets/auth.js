// Signing in and staying signed in. Locally: the server's e-mail form (`POST sign_in_url`),
// signing in again with the same e-mail as the token nears its end. On AWS: Cognito's managed
// login, authorization code with PKCE; tokens refreshed before they expire. Tokens live in
// sessionStorage: they last as long as the tab.

import { challengeOf, jwtClaims, randomString } from "./pkce.js";

const STORE = "filestore.session";
const PENDING = "filestore.pkce";
const RENEW_BEFORE_S = 120;

function load() {
  try { return JSON.parse(sessionStorage.getItem(STORE)) || null; } catch { return null; }
}

function save(state) {
  if (state) sessionStorage.setItem(STORE, JSON.stringify(state));
  else sessionStorage.removeItem(STORE);
}

/** Seconds since the epoch at which a token answer expires: the earliest of what it says. */
function expiryOf(answer) {
  const ends = [jwtClaims(answer.id_token).exp];
  if (answer.expires_at) ends.push(Date.parse(answer.expires_at) / 1000);
  if (answer.expires_in) ends.push(Date.now() / 1000 + Number(answer.expires_in));
  const known = ends.filter((end) => Number.isFinite(end));
  return known.length ? Math.min(...known) : Date.now() / 1000 + 3600;
}

async function postForm(url, fields) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  if (!response.ok) throw new Error("Signing in failed. Try again.");
  return response.json();
}

/**
 * The session for `auth` (config.json's `auth`). `ui.askEmail(problem)` resolves with the e-mail
 * a person typed (local sign-in); `ui.askToken(problem)` with a pasted token where the server
 * offers no browser sign-in.
 */
export function createSession(auth, ui) {
  let state = load();
  let renewing = null;

  function remember(answer, extra = {}) {
    const claims = jwtClaims(answer.id_token);
    state = {
      token: answer.id_token,
      expiresAt: expiryOf(answer),
      email: answer.email || claims.email || extra.email || "",
      refreshToken: answer.refresh_token || state?.refreshToken || null,
    };
    save(state);
  }

  async function localSignIn(email) {
    const response = await fetch(auth.sign_in_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || "Signing in failed. Try again.");
    remember(body, { email });
  }

  async function askUntilSignedIn() {
    let problem = "";
    for (;;) {
      try {
        if (auth.kind === "local" && auth.sign_in_url) {
          await localSignIn(await ui.askEmail(problem));
        } else if (auth.kind === "local") {
          const token = (await ui.askToken(problem)).trim();
          if (!jwtClaims(token).sub) throw new Error("That is not a token. Paste the last line `filestore token` prints.");
          remember({ id_token: token });
        } else {
          await redirectToLogin();
        }
        return;
      } catch (error) {
        problem = error.message;
      }
    }
  }

  async function redirectToLogin() {
    if (!auth.authorize_url) throw new Error("Sign-in through the browser is not set up for this deployment.");
    const verifier = randomString(48);
    const pending = { verifier, state: randomString(16), hash: location.hash };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const url = new URL(auth.authorize_url);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: auth.client_id,
      redirect_uri: auth.redirect_uri || `${location.origin}/`,
      scope: (auth.scopes || ["openid", "email", "profile"]).join(" "),
      state: pending.state,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: "S256",
    }).toString();
    location.assign(url.toString());
    return new Promise(() => {}); // the page is leaving
  }

  async function refresh() {
    if (auth.kind === "local" && auth.sign_in_url && state?.email) {
      await localSignIn(state.email);
      return true;
    }
    if (auth.kind === "cognito" && state?.refreshToken) {
      const answer = await postForm(auth.token_url, {
        grant_type: "refresh_token", client_id: auth.client_id, refresh_token: state.refreshToken,
      });
      remember(answer);
      return true;
    }
    return false;
  }

  const session = {
    get email() { return state?.email || ""; },
    signedIn: () => Boolean(state?.token),

    /** On return from Cognito (`?code=&state=`): exchange the code, restore the view. */
    async completeRedirect() {
      const params = new URLSearchParams(location.search);
      const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
      if (auth.kind !== "cognito" || !params.has("code") || !pending) return;
      sessionStorage.removeItem(PENDING);
      history.replaceState(null, "", `${location.pathname}${pending.hash || ""}`);
      if (params.get("state") !== pending.state) throw new Error("Sign-in was interrupted. Sign in again.");
      const answer = await postForm(auth.token_url, {
        grant_type: "authorization_code",
        client_id: auth.client_id,
        code: params.get("code"),
        redirect_uri: auth.redirect_uri || `${location.origin}/`,
        code_verifier: pending.verifier,
      });
      remember(answer);
    },

    signIn: askUntilSignedIn,

    /** A token valid for a while yet, renewed first if it is about to expire. */
    async token() {
      if (!state?.token) return null;
      if (state.expiresAt - Date.now() / 1000 < RENEW_BEFORE_S) {
        renewing ||= refresh().catch(() => false).finally(() => { renewing = null; });
        await renewing;
      }
      return state?.token || null;
    },

    /** After a 401: renew quietly if possible, else ask the person to sign in again. */
    async signInAgain() {
      renewing ||= refresh().catch(() => false).finally(() => { renewing = null; });
      if (await renewing) return;
      state = null;
      save(null);
      await askUntilSignedIn();
    },

    signOut() {
      state = null;
      save(null);
      if (auth.kind === "cognito" && auth.logout_url) {
        const url = new URL(auth.logout_url);
        url.search = new URLSearchParams({
          client_id: auth.client_id,
          logout_uri: auth.logout_redirect_uri || `${location.origin}/`,
        }).toString();
        location.assign(url.toString());
      } else {
        location.reload();
      }
    },
  };
  return session;
}
