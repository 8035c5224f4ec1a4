// The browser softphone: this page as the agent's phone (WebRTC into Vaxel's media engine).
// "Log in on this browser": open the call-control socket, take the microphone, send the SDP
// offer to POST /api/agents/ID/webrtc, and once connected log in with device "browser".
// Calls then ring here (the socket's "ringing"), and Answer / Hang up control them.
"use strict";

(() => {
  const s = Vaxel.requireSession();
  const me = s && s.user.agent;
  const $ = (id) => document.getElementById(id);
  if (!me || !$("softphone")) return;

  const base = "/api/agents/" + encodeURIComponent(me);
  // ?codec=PCMU makes the page offer PCMU first (Opus otherwise, the browsers' default).
  const codec = new URLSearchParams(location.search).get("codec");
  let ws = null;
  let pc = null;
  let mic = null;
  let call = null; // {call_id, queue, caller, connected}

  function status(text) { $("sp-status").textContent = text; }

  function render() {
    const on = pc && pc.connectionState === "connected";
    $("login-browser").disabled = !!ws;
    $("sp-answer").disabled = !(call && !call.connected);
    $("sp-hangup").disabled = !call;
    $("sp-call").hidden = !call;
    if (call) {
      $("sp-queue").textContent = call.queue || "–";
      $("sp-caller").textContent = call.caller || "unknown number";
      $("sp-call-state").textContent = call.connected ? "Connected" : "Ringing…";
    }
    $("softphone").dataset.state = call ? (call.connected ? "connected" : "ringing") : (on ? "idle" : "off");
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function onMessage(msg) {
    if (msg.type === "ringing") {
      call = { call_id: msg.call_id, queue: msg.queue, caller: msg.caller, connected: false };
      status("Incoming call");
    } else if (msg.type === "connected") {
      if (call) call.connected = true;
      status("In a call");
    } else if (msg.type === "ended") {
      if (call && call.call_id === msg.call_id) call = null;
      status("Call ended (" + msg.reason + "). Waiting for calls on this browser.");
    } else if (msg.type === "error") {
      status(msg.message);
    }
    render();
  }

  function openSocket() {
    return new Promise((resolve, reject) => {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      ws = new WebSocket(proto + "//" + location.host + base + "/softphone?token=" + encodeURIComponent(s.token));
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("the softphone connection could not be opened"));
      ws.onmessage = (e) => onMessage(JSON.parse(e.data));
      ws.onclose = () => { ws = null; stop("The softphone connection to Vaxel was lost. Log in on this browser again."); };
    });
  }

  function gathered(peer) {
    // Vaxel takes the offer with every candidate in it (no trickle ICE).
    if (peer.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (peer.iceGatheringState === "complete") resolve(); };
      peer.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000);
    });
  }

  function connected(peer) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (peer.connectionState === "connected") resolve();
        else if (peer.connectionState === "failed") reject(new Error("no media connection to Vaxel (ICE/DTLS failed)"));
      };
      peer.addEventListener("connectionstatechange", check);
      check();
      setTimeout(() => reject(new Error("no media connection to Vaxel within 15 s")), 15000);
    });
  }

  async function start() {
    status("Connecting…");
    try {
      await openSocket();
      // Raw microphone: the agent's headset does its own processing, and the tests' fake
      // microphone must arrive as it is.
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      pc = new RTCPeerConnection({ iceServers: [] });
      for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
      if (codec && RTCRtpReceiver.getCapabilities) {
        const all = RTCRtpReceiver.getCapabilities("audio").codecs;
        const first = all.filter((c) => c.mimeType.toLowerCase() === "audio/" + codec.toLowerCase());
        pc.getTransceivers()[0].setCodecPreferences([...first, ...all.filter((c) => !first.includes(c))]);
      }
      pc.ontrack = (e) => { $("sp-audio").srcObject = e.streams[0] || new MediaStream([e.track]); };
      pc.onconnectionstatechange = () => {
        if (pc && (pc.connectionState === "failed" || pc.connectionState === "closed")) {
          stop("The call connection to Vaxel failed.");
        }
        render();
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const answer = await Vaxel.api("POST", base + "/webrtc", { type: "offer", sdp: pc.localDescription.sdp });
      await pc.setRemoteDescription(answer);
      await connected(pc);
      const out = await Vaxel.api("POST", base + "/login", { device: "browser" });
      status("Logged in on this browser: calls ring here.");
      if (out.warnings && out.warnings.length) status(out.warnings.join(" "));
    } catch (e) {
      stop(e.message);
    }
    render();
  }

  function stop(reason) {
    call = null;
    if (ws) { const w = ws; ws = null; w.onclose = null; w.close(); }
    if (pc) { pc.close(); pc = null; }
    if (mic) { for (const t of mic.getTracks()) t.stop(); mic = null; }
    if (reason) status(reason);
    render();
  }

  $("login-browser").addEventListener("click", start);
  $("sp-answer").addEventListener("click", () => { if (call) send({ type: "answer-call", call_id: call.call_id }); });
  $("sp-hangup").addEventListener("click", () => { if (call) send({ type: "hang-up", call_id: call.call_id }); });
  window.addEventListener("pagehide", () => stop(""));

  // For scripts and tests: the WebRTC statistics of the softphone's connection.
  window.VaxelSoftphone = {
    async inbound() {
      if (!pc) return null;
      let found = null;
      (await pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "audio") found = r; });
      return found && { packetsReceived: found.packetsReceived, packetsLost: found.packetsLost, jitter: found.jitter, codec: found.codecId };
    },
    get connectionState() { return pc ? pc.connectionState : "none"; },
    get offer() { return pc && pc.localDescription ? pc.localDescription.sdp : null; },
  };
  render();
})();
