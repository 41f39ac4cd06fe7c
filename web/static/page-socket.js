// Counsel Room: a page's room WebSocket that stays up. Used by the room page and the
// interpreter's console (window.CounselSocket.open).
//
// - Reconnects after any close but a final one (4410 ended, 4403 refused or removed), with
//   capped exponential backoff and jitter, for as long as the page is open; at once when the
//   browser comes back online.
// - Notices a dead connection: it pings every PING_MS, and a socket that has received nothing
//   (no pong, no message) for DEAD_MS is given up and replaced. A server or network that dies
//   without closing TCP would otherwise go unnoticed for minutes.
// - A 4401 close (the room token expired) fetches a fresh token first; a fetch that fails for a
//   network reason is retried like a reconnect; only a refusal (401/403: the invitation or
//   staff session is gone) ends the page, with `expiredMessage`.
// - Follows the server to the node that serves the room: a `redirect` message names that node's
//   address and the socket closes with 4307; the page connects there at once (a few hops at
//   most, then the normal backoff). Any later loss goes back to the address the page came in
//   by (the load balancer), never to the node it was sent to, which may be the one that died.
"use strict";
(function () {
  const PING_MS = 5000;
  const DEAD_MS = 10000;
  const FINAL_CODES = new Set([4410, 4403]);
  const MOVED = 4307;
  const MAX_HOPS = 3;
  // The server's closing reasons, shown translated (listed here so that extraction finds them).
  void [
    t("This session has ended."), t("The host did not admit you to this session."),
    t("The host has removed you from this session."),
    t("You are not assigned to interpret this session."),
    t("This session is not yours: ask its counselor to add you to it."),
    t("slow down: too many messages"), t("something went wrong; try again"),
    t("wait until the host admits you"),
  ];

  function open(options) {
    const state = {
      token: options.token, ws: null, retry: 0, closedForGood: false,
      lastHeard: 0, timer: null, heartbeat: null,
      node: null, redirect: null, hops: 0, // the node a redirect named, and how many in a row
    };

    function base() {
      if (state.node) return state.node.replace(/^http/, "ws").replace(/\/+$/, "");
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      return `${proto}//${location.host}`;
    }

    function url() {
      const q = new URLSearchParams({ token: state.token, ...(options.query ? options.query() : {}) });
      return `${base()}/ws/rooms/${encodeURIComponent(options.roomId)}?${q}`;
    }

    function send(message) {
      if (state.ws && state.ws.readyState === WebSocket.OPEN) {
        state.ws.send(JSON.stringify(message));
        return true;
      }
      return false;
    }

    function connect() {
      clearTimeout(state.timer);
      if (state.closedForGood) return;
      options.onStatus(state.retry ? "reconnecting" : "connecting");
      const ws = new WebSocket(url());
      state.ws = ws;
      state.lastHeard = Date.now();
      ws.addEventListener("open", () => {
        if (ws !== state.ws) return;
        state.retry = 0;
        state.lastHeard = Date.now();
        options.onStatus("connected");
      });
      ws.addEventListener("message", (ev) => {
        if (ws !== state.ws) return;
        state.lastHeard = Date.now();
        let message;
        try { message = JSON.parse(ev.data); } catch (err) { console.error(err); return; }
        if (message.type === "redirect") {
          state.redirect = /^(https?|wss?):\/\//.test(message.url || "") ? message.url : "";
          return;
        }
        state.hops = 0;
        try { options.onMessage(message); } catch (err) { console.error(err); }
      });
      ws.addEventListener("close", (ev) => { if (ws === state.ws) lost(ev.code, ev.reason); });
    }

    // The socket is gone (closed, or silent for too long): try again unless it was final.
    function lost(code, reason) {
      const ws = state.ws;
      const redirect = state.redirect;
      state.ws = null;
      state.redirect = null;
      state.node = null;
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        try { ws.close(); } catch (err) { /* already closing */ }
      }
      if (state.closedForGood) return;
      options.onDisconnected && options.onDisconnected();
      if (FINAL_CODES.has(code)) { finish(reason ? t(reason) : options.closedMessage); return; }
      if (code === MOVED && redirect !== null && state.hops < MAX_HOPS) {
        state.hops += 1;
        state.node = redirect || null; // "": back to the address the page came in by
        options.onStatus("reconnecting");
        state.timer = setTimeout(connect, redirect ? 0 : 200 + Math.random() * 300);
        return;
      }
      state.hops = 0;
      options.onStatus("lost");
      const delay = Math.min(15000, 500 * 2 ** state.retry) * (0.75 + Math.random() / 2);
      state.retry += 1;
      state.timer = setTimeout(code === 4401 ? renewThenConnect : connect, delay);
    }

    async function renewThenConnect() {
      let res;
      try {
        res = await fetch(`/rooms/${encodeURIComponent(options.roomId)}/token`, {
          headers: { Accept: "application/json" }, credentials: "same-origin",
        });
      } catch (err) {
        lost(4401, ""); // offline or the server unreachable: try again later
        return;
      }
      if (res.status === 401 || res.status === 403) { finish(options.expiredMessage); return; }
      if (!res.ok) { lost(4401, ""); return; }
      state.token = (await res.json()).token;
      connect();
    }

    function finish(message) {
      if (state.closedForGood) return;
      state.closedForGood = true;
      clearTimeout(state.timer);
      clearInterval(state.heartbeat);
      if (state.ws) { try { state.ws.close(); } catch (err) { /* closing */ } }
      state.ws = null;
      options.onFinal(message);
    }

    state.heartbeat = setInterval(() => {
      if (!state.ws || state.closedForGood) return;
      if (state.ws.readyState === WebSocket.OPEN) send({ type: "ping" });
      if (Date.now() - state.lastHeard > DEAD_MS) lost(1006, "no answer from the server");
    }, PING_MS);

    window.addEventListener("online", () => {
      if (!state.closedForGood && !state.ws) { state.retry = 0; connect(); }
    });

    connect();
    return { send, finish };
  }

  window.CounselSocket = { open };
})();
