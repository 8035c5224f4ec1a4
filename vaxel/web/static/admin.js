// The admin page: calendars (explain at a time, deviations), SIP bans, the audit trail.
"use strict";

(async () => {
  const s = Vaxel.requireSession();
  const $ = (id) => document.getElementById(id);
  Vaxel.header(s, true);
  let queueCalendars = {}; // queue -> calendar id
  const canConfigure = s.user.role === "admin";

  function calendarOf(choice) {
    return queueCalendars[choice] || choice;
  }

  async function loadCalendars() {
    const out = await Vaxel.api("GET", "/api/calendars");
    queueCalendars = out.queues;
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
    const prompt = out.prompt ? Object.entries(out.prompt).map(([l, p]) => l + "=" + p).join(", ") : "none";
    const lines = [
      ["Open", out.open ? "open" : "closed"],
      ["Rule", out.rule + (out.detail ? " (" + out.detail + ")" : "")],
      ["Deviation", out.deviation ? "#" + out.deviation.number + " " + (out.deviation.name || "") : "none"],
      ["Holiday", out.holiday || "none"],
      ["Prompt", prompt],
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

  async function loadDeviations() {
    const cid = calendarOf($("calendar").value);
    $("dev-calendar").textContent = "calendar " + cid;
    const out = await Vaxel.api("GET", "/api/calendars/" + encodeURIComponent(cid) + "/deviations");
    const body = $("deviations").tBodies[0];
    body.replaceChildren();
    for (const d of out.deviations) {
      const remove = canConfigure
        ? [Vaxel.button("Remove", async () => {
          await Vaxel.api("DELETE", "/api/calendars/" + encodeURIComponent(cid) + "/deviations/" + d.id);
          await refreshCalendar();
        })]
        : [];
      body.appendChild(Vaxel.rowWith([d.number, d.name, d.status, d.when], remove));
    }
    $("deviation-form").hidden = !canConfigure;
  }

  async function refreshCalendar() {
    await explain();
    await loadDeviations();
  }

  async function loadBans() {
    try {
      const out = await Vaxel.api("GET", "/api/security/bans");
      const body = $("bans").tBodies[0];
      body.replaceChildren();
      for (const b of out.bans) {
        const lift = canConfigure ? [Vaxel.button("Lift", async () => {
          await Vaxel.api("DELETE", "/api/security/bans/" + encodeURIComponent(b.address));
          await loadBans();
        })] : [];
        body.appendChild(Vaxel.rowWith([b.address, b.reason, b.until ? new Date(b.until).toLocaleString() : "–"], lift));
      }
      for (const l of out.locks) {
        body.appendChild(Vaxel.rowWith([l.key, "locked " + l.kind + " after " + l.failures + " failures", new Date(l.until).toLocaleString()], []));
      }
      if (!body.rows.length) body.appendChild(Vaxel.row(["none", "", "", ""]));
    } catch (e) {
      $("message").textContent = e.message;
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
      await refreshCalendar();
    } catch (e) {
      $("message").textContent = e.message;
    }
  });
  $("calendar").addEventListener("change", () => refreshCalendar().catch((e) => { $("message").textContent = e.message; }));
  Vaxel.onSubmit($("deviation-form"), async (v) => {
    const body = { status: v.status };
    if (v.name) body.name = v.name;
    if (v.date) body.date = v.date;
    if (v.weekdays) body.weekdays = v.weekdays.split(/[\s,]+/).filter(Boolean);
    if (v.time) body.time = v.time;
    if (v.recurring) body.recurring = true;
    const cid = calendarOf($("calendar").value);
    await Vaxel.api("POST", "/api/calendars/" + encodeURIComponent(cid) + "/deviations", body);
    $("deviation-form").reset();
    await refreshCalendar();
    loadAudit();
  });
  try {
    await loadCalendars();
    await refreshCalendar();
  } catch (e) {
    $("message").textContent = e.message;
  }
  loadBans();
  loadAudit();
})();
