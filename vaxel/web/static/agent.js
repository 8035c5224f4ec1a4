// The agent client: state live from /api/events, actions through /api/agents/ID/....
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
  const callers = new Map(); // call id -> {a_number, arrived_at} from "arrived" events
  let offer = null; // {call_id, queue, at}
  let qualityTimer = null;

  // Which buttons make sense in each state (the API refuses the others with a reason).
  const ENABLED = {
    offline: ["login"],
    ready: ["login", "pause", "logout"],
    ringing: ["pause", "logout"],
    busy: ["pause", "logout"],
    wrap_up: ["ready", "wrapup-done", "pause", "logout"],
    paused: ["login", "ready", "pause", "logout"],
  };

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
    if (state === "wrap_up" && agent.wrap_up_until) {
      const left = (Date.parse(agent.wrap_up_until) - Date.now()) / 1000;
      if (left > 0) detail += " · wrap-up ends in " + Vaxel.duration(left);
    }
    if (state === "ready" && agent.idle_since) {
      detail += " · ready for " + Vaxel.duration(Vaxel.since(agent.idle_since));
    }
    $("state-detail").textContent = detail;
    $("groups").textContent = agent && agent.groups.length ? "Answer groups: " + agent.groups.join(", ") : "";
    const enabled = ENABLED[state] || [];
    for (const id of ["login", "ready", "pause", "wrapup-done", "logout"]) {
      $(id).disabled = !enabled.includes(id);
    }
    const showOffer = offer && (state === "ringing" || state === "busy");
    $("offer").hidden = !showOffer;
    if (showOffer) {
      const c = callers.get(offer.call_id) || {};
      $("offer-queue").textContent = offer.queue || "–";
      $("offer-caller").textContent = c.a_number || "unknown number";
      $("offer-wait").textContent = c.arrived_at ? Vaxel.duration(Date.now() / 1000 - c.arrived_at) : "–";
    }
  }

  async function refresh() {
    try {
      agent = (await Vaxel.api("GET", "/api/agents/" + encodeURIComponent(me))).agent;
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
      if (mine) agent = mine;
      render();
    } else if (ev.type === "agent_state" && ev.agent === me) {
      if (agent) {
        agent.state = ev.new;
        if (ev.new === "paused") agent.pause_reason = ev.reason;
      }
      if (ev.new === "ready" || ev.new === "offline" || ev.new === "paused") offer = null;
      render();
      refresh(); // pause reason, wrap-up end, device: the API's whole view
    } else if (ev.type === "call_event") {
      if (ev.kind === "arrived" && ev.call_id) {
        callers.set(ev.call_id, ev.data || {});
        if (callers.size > 500) callers.delete(callers.keys().next().value);
      } else if (ev.kind === "offered" && ev.agent === me) {
        offer = { call_id: ev.call_id, queue: ev.queue, at: ev.at };
        render();
      } else if (offer && ev.call_id === offer.call_id && ["abandoned", "ended", "offer_cancelled", "no_answer"].includes(ev.kind)) {
        if (ev.kind !== "ended" || !agent || agent.state !== "busy") offer = null;
        render();
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

  $("login").addEventListener("click", () => { notice(""); act("login", { device: "sip" }); });
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
  $("wrapup-done").addEventListener("click", () => act("wrapup_done"));
  $("logout").addEventListener("click", () => act("logout"));

  render();
  refresh();
  // The page reconnects a lost stream and says "disconnected"; the agent stays logged in.
  Vaxel.events(onEvent, (connected) => {
    Vaxel.setConnected(connected);
    if (connected) refresh();
  });
  setInterval(render, 1000); // wrap-up countdown, time ready
})();
