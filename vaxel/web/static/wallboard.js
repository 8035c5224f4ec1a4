// The supervisor wallboard: queues, agents and calls, live from the API and /api/events.
"use strict";

(() => {
  const s = Vaxel.requireSession();
  const $ = (id) => document.getElementById(id);
  Vaxel.header(s, false);
  if (s.user.role === "agent") $("admin-link").hidden = true;

  const queues = new Map(); // id -> {snap, received (ms)}
  const queueNames = new Map();
  const agents = new Map(); // id -> {id, name, state, pause_reason, since (ms) | null}
  let calls = [];
  let callsAllowed = true;
  let callsTimer = null;

  function renderQueues() {
    const body = $("queues").tBodies[0];
    body.replaceChildren();
    for (const id of [...queues.keys()].sort()) {
      const { snap, received } = queues.get(id);
      const today = snap.today || {};
      let longest = snap.longest_wait_seconds;
      if (longest !== null && longest !== undefined && snap.waiting + snap.ringing > 0) {
        longest += (Date.now() - received) / 1000;
      }
      const sl = today.service_level === null || today.service_level === undefined
        ? "–" : Math.round(today.service_level * 100) + " %";
      const tr = Vaxel.row([
        queueNames.get(id) || id,
        snap.waiting,
        snap.waiting + snap.ringing > 0 ? Vaxel.duration(longest) : "–",
        sl,
        today.abandoned,
        today.answered,
        (snap.agents || {}).ready,
      ]);
      tr.dataset.queue = id;
      tr.cells[1].className = snap.waiting > 0 ? "num hot" : "num";
      body.appendChild(tr);
    }
  }

  function renderAgents() {
    const body = $("agents").tBodies[0];
    body.replaceChildren();
    const order = ["ringing", "busy", "wrap_up", "ready", "paused", "offline"];
    const list = [...agents.values()].sort(
      (a, b) => order.indexOf(a.state) - order.indexOf(b.state) || a.id.localeCompare(b.id));
    for (const a of list) {
      let state = Vaxel.STATE_NAMES[a.state] || a.state;
      if (a.state === "paused" && a.pause_reason) state += ": " + a.pause_reason;
      const tr = Vaxel.row([
        a.name && a.name !== a.id ? a.id + " " + a.name : a.id,
        state,
        a.since === null ? "–" : Vaxel.duration((Date.now() - a.since) / 1000),
      ]);
      tr.dataset.agent = a.id;
      tr.dataset.state = a.state;
      tr.className = "state-" + a.state;
      body.appendChild(tr);
    }
  }

  function renderCalls() {
    const body = $("calls").tBodies[0];
    body.replaceChildren();
    for (const c of calls) {
      const mos = Object.values(c.quality || {}).map((q) => q.mos).filter((m) => m !== null && m !== undefined);
      const started = c.connected_at || c.enqueued_at || c.started_at;
      const tr = Vaxel.row([
        c.a_number || "anonymous",
        c.queue ? queueNames.get(c.queue) || c.queue : "–",
        c.state,
        c.agent || (c.ringing_agents || []).join(", ") || "–",
        Vaxel.duration(Vaxel.since(started)),
        mos.length ? Math.min(...mos).toFixed(1) : "–",
      ]);
      tr.dataset.call = c.call_id;
      if (Object.values(c.quality || {}).some((q) => q.warning)) tr.className = "warn";
      body.appendChild(tr);
    }
    $("calls-note").textContent = calls.length ? "" : "No calls right now.";
  }

  function render() {
    $("clock").textContent = new Date().toLocaleTimeString();
    renderQueues();
    renderAgents();
    if (callsAllowed) renderCalls();
  }

  function setAgent(a) {
    const old = agents.get(a.id);
    agents.set(a.id, {
      id: a.id,
      name: a.name || (old && old.name) || a.id,
      state: a.state,
      pause_reason: a.pause_reason,
      // The ACD says since when (state_since); an agent offline since the start: none.
      since: a.state_since ? Date.parse(a.state_since) : old && old.state === a.state ? old.since : null,
    });
  }

  async function loadAll() {
    try {
      const [live, named] = await Promise.all([
        Vaxel.api("GET", "/api/live/queues"),
        Vaxel.api("GET", "/api/queues"),
      ]);
      for (const q of named.queues || []) queueNames.set(q.id, q.name || q.id);
      for (const snap of live.queues) queues.set(snap.queue, { snap, received: Date.now() });
      $("message").textContent = "";
    } catch (e) {
      $("message").textContent = e.message;
    }
    await loadCalls();
    render();
  }

  async function loadCalls() {
    if (!callsAllowed) return;
    try {
      calls = (await Vaxel.api("GET", "/api/calls")).calls;
    } catch (e) {
      if (e.status === 403) {
        callsAllowed = false;
        $("calls").hidden = true;
        $("calls-note").textContent = "Live calls are shown to managers and admins.";
      }
      return;
    }
    renderCalls();
  }

  function callsSoon() {
    clearTimeout(callsTimer);
    callsTimer = setTimeout(loadCalls, 300);
  }

  function onEvent(ev) {
    if (ev.type === "hello") {
      for (const a of ev.agents || []) setAgent(a);
      renderAgents();
    } else if (ev.type === "agent_state") {
      const a = agents.get(ev.agent) || { id: ev.agent, name: ev.agent };
      agents.set(ev.agent, {
        ...a,
        state: ev.new,
        pause_reason: ev.new === "paused" ? ev.reason : null,
        since: Date.parse(ev.since || ev.at) || Date.now(),
      });
      renderAgents();
    } else if (ev.type === "queue_figures") {
      queues.set(ev.queue, { snap: ev, received: Date.now() });
      renderQueues();
    } else if (ev.type === "call_event" || ev.type === "call_quality_warning" || ev.type === "call_quality_recovered") {
      callsSoon();
    }
  }

  loadAll();
  Vaxel.events(onEvent, (connected) => {
    Vaxel.setConnected(connected);
    if (connected) loadAll(); // figures may have changed while the stream was down
  });
  setInterval(render, 1000);
  setInterval(loadCalls, 5000); // durations and MOS of calls that send no events
})();
