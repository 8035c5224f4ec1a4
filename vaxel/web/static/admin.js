// The admin page: the audit trail and "explain this calendar at time T", from the API.
"use strict";

(async () => {
  const s = Vaxel.requireSession();
  const $ = (id) => document.getElementById(id);
  Vaxel.header(s, true);

  async function loadCalendars() {
    const out = await Vaxel.api("GET", "/api/calendars");
    const select = $("calendar");
    for (const id of out.calendars) select.add(new Option("calendar " + id, id));
    for (const [queue, cal] of Object.entries(out.queues)) select.add(new Option("queue " + queue + " (" + cal + ")", queue));
    const now = new Date();
    now.setSeconds(0, 0);
    $("at").value = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  async function explain() {
    const at = $("at").value ? new Date($("at").value).toISOString() : "";
    const out = await Vaxel.api("GET", "/api/calendars/" + encodeURIComponent($("calendar").value) + "/status?at=" + encodeURIComponent(at));
    const dl = $("explain");
    dl.replaceChildren();
    const lines = [
      ["Open", out.open ? "open" : "closed"],
      ["Rule", out.rule + (out.detail ? " (" + out.detail + ")" : "")],
      ["Deviation", out.deviation ? "#" + out.deviation.number + " " + (out.deviation.name || "") : "none"],
      ["Holiday", out.holiday || "none"],
      ["Prompt", out.prompt || "none"],
      ["Next change", out.next_change ? out.next_change + " (" + out.next_status + ")" : "none"],
      ["Time zone", out.timezone],
    ];
    for (const [k, v] of lines) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dd.dataset.field = k.toLowerCase().replace(" ", "_");
      dl.append(dt, dd);
    }
  }

  async function loadAudit() {
    try {
      const out = await Vaxel.api("GET", "/api/audit?limit=50");
      const body = $("audit").tBodies[0];
      body.replaceChildren();
      for (const e of out.entries) {
        body.appendChild(Vaxel.row([new Date(e.at).toLocaleString(), e.actor + " (" + (e.role || "–") + ")", e.via, e.action, e.target]));
      }
    } catch (e) {
      $("message").textContent = e.message;
    }
  }

  $("explain-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await explain();
    } catch (e) {
      $("message").textContent = e.message;
    }
  });
  try {
    await loadCalendars();
    await explain();
  } catch (e) {
    $("message").textContent = e.message;
  }
  loadAudit();
})();
