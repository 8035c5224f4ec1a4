// Shared by every page: the session kept in sessionStorage, API calls, the event stream.
"use strict";

const Vaxel = (() => {
  const KEY = "vaxel.session";

  function session() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || "null");
    } catch (e) {
      return null;
    }
  }

  function saveSession(login) {
    sessionStorage.setItem(KEY, JSON.stringify({ token: login.token, user: login.user }));
  }

  function clearSession() {
    sessionStorage.removeItem(KEY);
  }

  function home(user) {
    return user && user.role === "agent" ? "/agent" : "/wallboard";
  }

  // The page needs a signed-in user: otherwise go to the login page.
  function requireSession() {
    const s = session();
    if (!s || !s.token) {
      location.replace("/login");
      throw new Error("not signed in");
    }
    return s;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // One API request with the session token; the API's own message on an error.
  async function api(method, path, body) {
    const s = session();
    const headers = { Accept: "application/json" };
    if (s && s.token) headers.Authorization = "Bearer " + s.token;
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "the server cannot be reached (" + e.message + ")");
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      const message = data && data.error ? data.error.message : resp.status + " " + resp.statusText;
      if (resp.status === 401 && location.pathname !== "/login") {
        clearSession();
        location.replace("/login");
      }
      throw new ApiError(resp.status, message);
    }
    return data;
  }

  // A multipart upload (prompts) with the session token; the API's message on an error.
  async function upload(path, form) {
    const s = session();
    const headers = { Accept: "application/json" };
    if (s && s.token) headers.Authorization = "Bearer " + s.token;
    let resp;
    try {
      resp = await fetch(path, { method: "POST", headers, body: form });
    } catch (e) {
      throw new ApiError(0, "the server cannot be reached (" + e.message + ")");
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      throw new ApiError(resp.status, data && data.error ? data.error.message : resp.status + " " + resp.statusText);
    }
    return data;
  }

  // Binary data (a prompt's audio) fetched with the token, as an object URL for <audio>.
  async function blobUrl(path) {
    const s = session();
    const resp = await fetch(path, { headers: { Authorization: "Bearer " + (s ? s.token : "") } });
    if (!resp.ok) throw new ApiError(resp.status, resp.status + " " + resp.statusText);
    return URL.createObjectURL(await resp.blob());
  }

  // A button that runs an async action and shows its error in #message.
  function button(text, action) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.addEventListener("click", async () => {
      const msg = document.getElementById("message");
      if (msg) msg.textContent = "";
      try {
        await action();
      } catch (e) {
        if (msg) msg.textContent = e.message;
      }
    });
    return b;
  }

  // A table row of text cells, then elements (buttons) in a last cell.
  function rowWith(cells, elements) {
    const tr = row(cells);
    const td = document.createElement("td");
    td.append(...elements);
    tr.appendChild(td);
    return tr;
  }

  // A form's named fields as an object of trimmed strings ("" left out), checkboxes as booleans.
  function formValues(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === "checkbox") out[el.name] = el.checked;
      else if (el.value.trim() !== "") out[el.name] = el.value.trim();
    }
    return out;
  }

  // Run an async action on a form's submit; its error goes to #message.
  function onSubmit(form, action) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const msg = document.getElementById("message");
      if (msg) msg.textContent = "";
      try {
        await action(formValues(form));
      } catch (e) {
        if (msg) msg.textContent = e.message;
      }
    });
  }

  // The live event stream: reconnects after a lost connection (1 s, 2 s, ... up to 10 s)
  // and tells the page whether it is connected. Each (re)connect starts with a "hello".
  function events(onEvent, onStatus) {
    let delay = 1000;
    let ws = null;
    function connect() {
      const s = session();
      if (!s) return;
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      ws = new WebSocket(proto + "//" + location.host + "/api/events?token=" + encodeURIComponent(s.token));
      ws.onopen = () => {
        delay = 1000;
        onStatus(true);
      };
      ws.onmessage = (msg) => {
        let event;
        try {
          event = JSON.parse(msg.data);
        } catch (e) {
          return;
        }
        onEvent(event);
      };
      ws.onclose = () => {
        onStatus(false);
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    connect();
    return { close: () => ws && ws.close() };
  }

  // The header every page shares: who is signed in, the connection, sign out.
  function header(s, connected) {
    const who = document.getElementById("who");
    if (who) who.textContent = s.user.name + " (" + s.user.role + ")";
    const out = document.getElementById("signout");
    if (out) {
      out.addEventListener("click", async () => {
        try {
          await api("POST", "/api/logout");
        } catch (e) {
          // signed out locally anyway
        }
        clearSession();
        location.replace("/login");
      });
    }
    setConnected(connected);
  }

  function setConnected(connected) {
    const conn = document.getElementById("conn");
    if (!conn) return;
    conn.textContent = connected ? "connected" : "disconnected";
    conn.className = connected ? "conn ok" : "conn lost";
  }

  // "1:05", "12:30", "1:02:03" for seconds.
  function duration(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "–";
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + sec : m + ":" + sec;
  }

  function since(iso) {
    return iso ? (Date.now() - Date.parse(iso)) / 1000 : null;
  }

  // A table row of text cells (never HTML from the server).
  function row(cells, tag) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement(tag || "td");
      td.textContent = c === null || c === undefined ? "–" : String(c);
      tr.appendChild(td);
    }
    return tr;
  }

  const STATE_NAMES = {
    offline: "Offline",
    ready: "Ready",
    ringing: "Ringing",
    busy: "Busy",
    wrap_up: "Wrap-up",
    paused: "Paused",
  };

  return {
    session, saveSession, clearSession, home, requireSession, api, ApiError, events,
    header, setConnected, duration, since, row, STATE_NAMES, upload, blobUrl, button, rowWith,
    formValues, onSubmit,
  };
})();
