// The agent client: state live from /api/events, actions through /api/agents/ID/... and
// /api/calls/ID/...; the offered call and its screen pop from GET /api/agents/ID.
"use strict";

(() => {
  const s = Vaxel.requireSession();
  const me = s.user.agent;
  const $ = (id) => document.getElementById(id);
  Vaxel.header(s, false);
  if (!me) {
    $("message").textContent = "User " + s.user.name + " works as no agent: see the wallboard.";
    for (const b of document.querySelectorAll(".controls button")) b.disabled = true;
    return;
  }
  $("agent-name").textContent = me;

  let agent = null; // as GET /api/agents/ID shows it
  let offer = null; // the "offer" of GET /api/agents/ID: the call offered or talked to
  let wrapQueue = null; // the queue of the call in wrap-up (its classification codes)
  const popped = new Set(); // call ids whose screen pop was opened
  const codes = new Map(); // queue -> its classification ({codes, required}) or null
  let qualityTimer = null;
  let routes = new Set(); // paths of /api/openapi.json: which call controls exist
  let lastKnown = null; // the state before the stream was lost

  // Which buttons make sense in each state (the API refuses the others with a reason).
  const ENABLED = {
    offline: ["login"],
    ready: ["login", "pause", "logout"],
    ringing: ["pause", "logout"],
    busy: ["pause", "logout"],
    wrap_up: ["ready", "wrapup-done", "pause", "logout"],
    paused: ["login", "ready", "pause", "logout"],
  };

  function renderGroups() {
    // Answer groups to staff, chosen before logging in (the preselected ones ticked).
    const box = $("group-choice");
    if (!agent || box.dataset.agent === me) return;
    box.dataset.agent = me;
    box.replaceChildren();
    const pre = agent.preselected_groups.length ? agent.preselected_groups : agent.member_of;
    for (const g of agent.member_of) {
      const label = document.createElement("label");
      const box1 = document.createElement("input");
      box1.type = "checkbox";
      box1.value = g;
      box1.name = "group";
      box1.checked = pre.includes(g);
      label.append(box1, " " + g);
      box.appendChild(label);
    }
  }

  function render() {
    const state = agent ? agent.state : "offline";
    const el = $("state");
    el.dataset.state = state;
    el.className = "state " + state;
    let text = Vaxel.STATE_NAMES[state] || state;
    if (state === "paused" && agent.pause_reason) text += ": " + agent.pause_reason;
    el.textContent = text;
    let detail = "";
    if (agent && agent.device) detail = "on " + agent.device;
    if (agent && agent.state_since && state !== "offline") {
      detail += " · for " + Vaxel.duration(Vaxel.since(agent.state_since));
    }
    $("state-detail").textContent = detail;
    $("groups").textContent = agent && agent.groups.length ? "Answer groups: " + agent.groups.join(", ") : "";
    renderGroups();
    const enabled = ENABLED[state] || [];
    for (const id of ["login", "ready", "pause", "wrapup-done", "logout"]) {
      $(id).disabled = !enabled.includes(id);
    }
    for (const box of document.querySelectorAll("#group-choice input")) box.disabled = !enabled.includes("login");
    renderOffer(state);
    renderWrapUp(state);
  }

  function renderOffer(state) {
    const show = offer && (state === "ringing" || state === "busy");
    $("offer").hidden = !show;
    $("call-controls").hidden = !(show && state === "busy");
    if (!show) return;
    $("offer-title").textContent = state === "ringing" ? "Incoming call" : "On a call";
    $("offer-queue").textContent = offer.queue_name ? offer.queue_name + " (" + offer.queue + ")" : offer.queue;
    $("offer-caller").textContent = offer.a_number || "unknown number";
    $("offer-wait").textContent = offer.arrived_at ? Vaxel.duration(Vaxel.since(offer.arrived_at)) : "–";
    const cust = [offer.customer_number, offer.customer_name].filter(Boolean).join(" · ");
    $("offer-customer").textContent = cust || "–";
    const link = $("pop-link");
    link.parentElement.hidden = !offer.screen_pop;
    if (offer.screen_pop) {
      link.href = offer.screen_pop.url;
      link.textContent = offer.screen_pop.url;
    }
    for (const b of document.querySelectorAll("#call-controls [data-route]")) {
      b.hidden = !routes.has(b.dataset.route);
    }
    $("transfer-box").hidden = !(routes.has("/api/calls/{call_id}/transfer") || routes.has("/api/calls/{call_id}/consult"));
  }

  function renderWrapUp(state) {
    const box = $("wrapup");
    box.hidden = state !== "wrap_up";
    if (state !== "wrap_up") return;
    const left = agent.wrap_up_until ? (Date.parse(agent.wrap_up_until) - Date.now()) / 1000 : null;
    $("wrapup-left").textContent = left !== null && left > 0 ? "ends in " + Vaxel.duration(left) : "";
    const profile = wrapQueue ? codes.get(wrapQueue) : null;
    $("classify").hidden = !profile;
    if (profile && $("code").dataset.queue !== wrapQueue) {
      const select = $("code");
      select.dataset.queue = wrapQueue;
      select.replaceChildren(new Option(profile.required ? "– choose a code –" : "– no code –", ""));
      for (const c of profile.codes) select.add(new Option(c, c));
    }
  }

  function popScreen() {
    // Opened once per call, as soon as the offer is known (before the phone is answered).
    if (!offer || !offer.screen_pop || popped.has(offer.call_id)) return;
    popped.add(offer.call_id);
    const pop = offer.screen_pop;
    if (pop.open === "frame") {
      const frame = $("pop-frame");
      frame.src = pop.url;
      frame.hidden = false;
    } else {
      // A browser that blocks pop-ups leaves the link in the offer box to click.
      window.open(pop.url, "_blank", "noopener,noreferrer");
    }
  }

  async function loadCodes(queue) {
    if (!queue || codes.has(queue)) return;
    try {
      const q = await Vaxel.api("GET", "/api/queues/" + encodeURIComponent(queue));
      codes.set(queue, (q.queue || q).classification || null);
    } catch (e) {
      codes.set(queue, null);
    }
    render();
  }

  async function refresh() {
    try {
      const out = await Vaxel.api("GET", "/api/agents/" + encodeURIComponent(me));
      agent = out.agent;
      if (out.offer) {
        offer = out.offer;
        wrapQueue = offer.queue;
        loadCodes(offer.queue);
        popScreen();
      } else if (agent.state !== "wrap_up") {
        offer = null;
      }
      render();
    } catch (e) {
      $("message").textContent = e.message;
    }
  }

  function notice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  function onEvent(ev) {
    if (ev.type === "hello") {
      const mine = (ev.agents || []).find((a) => a.id === me);
      if (mine) {
        if (lastKnown && lastKnown !== "offline" && mine.state === "offline") {
          notice("You were logged out while the connection was lost. Log in again when you are back.");
        }
        lastKnown = null;
        agent = mine;
      }
      render();
    } else if (ev.type === "agent_state" && ev.agent === me) {
      if (agent) {
        agent.state = ev.new;
        agent.state_since = ev.since || ev.at;
        if (ev.new === "paused") agent.pause_reason = ev.reason;
      }
      if (ev.new === "ready" || ev.new === "offline" || ev.new === "paused") offer = null;
      render();
      refresh(); // pause reason, wrap-up end, device, the offer: the API's whole view
    } else if (ev.type === "call_event") {
      if (ev.kind === "offered" && ev.agent === me) {
        refresh(); // the offer with its screen pop, before the phone is answered
      } else if (ev.kind === "wrap_up_started" && ev.agent === me) {
        wrapQueue = ev.queue;
        loadCodes(ev.queue);
      }
    } else if (ev.type === "agent_logged_out" && ev.agent === me) {
      const missed = /^(\d+) unanswered offers in a row/.exec(ev.reason || "");
      if (missed) {
        notice("You were logged out after " + missed[1] + " missed calls. Log in again when you are back.");
      } else if (!/^logged in again/.test(ev.reason || "")) {
        notice("You were logged out: " + ev.reason);
      }
    } else if ((ev.type === "call_quality_warning" || ev.type === "call_quality_recovered") && isMine(ev)) {
      clearTimeout(qualityTimer);
      const q = $("quality");
      if (ev.type === "call_quality_warning") {
        q.textContent = "Your call connection is having issues.";
        q.className = "quality bad";
      } else {
        q.textContent = "Your call connection is fine again.";
        q.className = "quality good";
        qualityTimer = setTimeout(() => { q.hidden = true; }, 8000);
      }
      q.hidden = false;
    }
  }

  function isMine(ev) {
    return ev.agent === me || (agent && agent.call_id && ev.call_id === agent.call_id);
  }

  async function act(action, body) {
    $("message").textContent = "";
    try {
      const out = await Vaxel.api("POST", "/api/agents/" + encodeURIComponent(me) + "/" + action, body || {});
      agent = out.agent;
      if (out.warnings && out.warnings.length) $("message").textContent = out.warnings.join(" ");
      render();
    } catch (e) {
      $("message").textContent = e.message;
    }
  }

  async function callAction(path, body) {
    if (!offer) return;
    $("message").textContent = "";
    try {
      await Vaxel.api("POST", path.replace("{call_id}", encodeURIComponent(offer.call_id)), body || {});
      refresh();
    } catch (e) {
      $("message").textContent = e.message;
    }
  }

  $("login").addEventListener("click", () => {
    notice("");
    const groups = [...document.querySelectorAll("#group-choice input:checked")].map((b) => b.value);
    if (agent && agent.member_of.length && !groups.length) {
      $("message").textContent = "Tick at least one answer group to staff.";
      return;
    }
    // "client": this login lasts while this page is connected (plus the grace period).
    act("login", { device: "sip", client: true, ...(groups.length ? { groups } : {}) });
  });
  $("ready").addEventListener("click", () => act("ready"));
  $("pause").addEventListener("click", () => {
    const reason = $("reason").value.trim();
    if (!reason) {
      $("message").textContent = "Give a reason for the pause (e.g. lunch).";
      $("reason").focus();
      return;
    }
    act("pause", { reason });
  });
  $("wrapup-done").addEventListener("click", () => {
    const code = $("classify").hidden ? "" : $("code").value;
    act("wrapup_done", code ? { classification: code } : {});
  });
  $("logout").addEventListener("click", () => act("logout"));
  $("hangup").addEventListener("click", () => callAction("/api/calls/{call_id}/hangup"));
  for (const b of document.querySelectorAll("#call-controls [data-route]")) {
    const needsTarget = b.id === "transfer" || b.id === "consult";
    b.addEventListener("click", () => {
      const target = $("target").value.trim();
      if (needsTarget && !target) {
        $("message").textContent = "Give the target: a queue, an agent or a number.";
        return;
      }
      callAction(b.dataset.route, needsTarget ? { target } : {});
    });
  }

  async function loadRoutes() {
    try {
      const doc = await Vaxel.api("GET", "/api/openapi.json");
      routes = new Set(Object.keys(doc.paths || {}));
      render();
    } catch (e) {
      routes = new Set();
    }
  }

  render();
  refresh();
  loadRoutes();
  Vaxel.events(onEvent, (connected) => {
    Vaxel.setConnected(connected);
    if (!connected) lastKnown = agent ? agent.state : null;
    if (connected) refresh();
  });
  setInterval(render, 1000); // wrap-up countdown, time in state, waited
})();
