// Live updates: one WebSocket (`<ws_url>?token=`) that reconnects by itself with back-off and
// hands each `{type, upload|folder}` message to the view.

const PING_EVERY_MS = 5 * 60 * 1000; // API Gateway closes a socket idle for 10 minutes
const MAX_BACKOFF_MS = 30000;

/** Delay before reconnect attempt `n` (0-based): 1 s, 2 s, 4 s … up to 30 s, with jitter. */
export function backoff(n, random = Math.random) {
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** n);
  return Math.round(base * (0.75 + random() * 0.5));
}

/**
 * Keep a socket open to `wsUrl`. `token()` gives the current token; `onMessage(message)` gets
 * each event; `onState("open"|"closed", {reconnected})` is told when it connects or drops.
 * Returns `close()`.
 */
export function connectLive(wsUrl, { token, onMessage, onState = () => {} }) {
  let socket = null;
  let attempts = 0;
  let everOpened = false;
  let stopped = false;
  let timer = null;
  let ping = null;

  async function open() {
    if (stopped) return;
    const current = await token();
    if (!current || stopped) return;
    const url = new URL(wsUrl);
    url.searchParams.set("token", current);
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      const reconnected = everOpened;
      everOpened = true;
      attempts = 0;
      ping = setInterval(() => socket?.send(JSON.stringify({ action: "ping" })), PING_EVERY_MS);
      onState("open", { reconnected });
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (message && message.type && message.type !== "pong") onMessage(message);
    });
    socket.addEventListener("close", () => {
      clearInterval(ping);
      socket = null;
      if (stopped) return;
      onState("closed", {});
      timer = setTimeout(open, backoff(attempts));
      attempts += 1;
    });
  }

  const online = () => { if (!socket && !stopped) { clearTimeout(timer); attempts = 0; open(); } };
  window.addEventListener("online", online);
  open();
  return function close() {
    stopped = true;
    clearTimeout(timer);
    clearInterval(ping);
    window.removeEventListener("online", online);
    socket?.close();
  };
}
