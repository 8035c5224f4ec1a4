// Report subscriptions (create, edit, delete) and scheduled logins (docs/reports.md, acd.md).
"use strict";

(async () => {
  const s = Vaxel.requireSession();
  const $ = (id) => document.getElementById(id);
  Vaxel.header(s, true);

  function editing(sub) {
    const f = $("sub-form");
    f.reset();
    $("s-id").value = sub ? sub.id : "";
    if (sub) {
      $("s-owner").value = sub.owner;
      $("s-email").value = sub.email;
      $("s-report").value = sub.report;
      $("s-periodicity").value = sub.periodicity;
      $("s-zone").value = sub.time_zone;
      $("s-queues").value = (sub.queues || []).join(",");
    }
    $("s-save").textContent = sub ? "Save subscription " + sub.id : "Subscribe";
    $("s-cancel").hidden = !sub;
  }

  async function loadSubs() {
    const out = await Vaxel.api("GET", "/api/report-subscriptions");
    const body = $("subs").tBodies[0];
    body.replaceChildren();
    for (const sub of out.subscriptions) {
      const tr = Vaxel.rowWith(
        [sub.id, sub.owner, sub.email, sub.report, sub.periodicity, sub.time_zone, sub.queues ? sub.queues.join(", ") : "all"],
        [
          Vaxel.button("Edit", async () => editing(sub)),
          Vaxel.button("Delete", async () => {
            await Vaxel.api("DELETE", "/api/report-subscriptions/" + sub.id);
            await loadSubs();
          }),
        ],
      );
      tr.dataset.subscription = sub.id;
      body.appendChild(tr);
    }
  }

  async function loadSchedules() {
    const out = await Vaxel.api("GET", "/api/schedules");
    const body = $("schedules").tBodies[0];
    body.replaceChildren();
    const admin = s.user.role === "admin";
    for (const sc of out.schedules) {
      const del = admin ? [Vaxel.button("Delete", async () => {
        await Vaxel.api("DELETE", "/api/schedules/" + sc.id);
        await loadSchedules();
      })] : [];
      body.appendChild(Vaxel.rowWith([sc.id, sc.agent, sc.first_day + " – " + sc.last_day, sc.start, sc.end, sc.number || "remote number"], del));
    }
    if (!out.schedules.length) body.appendChild(Vaxel.row(["none", "", "", "", "", "", ""]));
    $("schedule-form").hidden = !admin;
  }

  Vaxel.onSubmit($("sub-form"), async (v) => {
    const body = { owner: v.owner, email: v.email, report: v.report, periodicity: v.periodicity };
    if (v.time_zone) body.time_zone = v.time_zone;
    body.queues = v.queues ? v.queues.split(/[\s,]+/).filter(Boolean) : null;
    if (v.id) {
      await Vaxel.api("PATCH", "/api/report-subscriptions/" + v.id, body);
      $("message").textContent = "Subscription " + v.id + " saved.";
    } else {
      const out = await Vaxel.api("POST", "/api/report-subscriptions", body);
      $("message").textContent = "Subscribed " + out.email + "; first report due " + new Date(out.first_due_at).toLocaleString() + ".";
    }
    editing(null);
    await loadSubs();
  });
  $("s-cancel").addEventListener("click", () => editing(null));
  Vaxel.onSubmit($("schedule-form"), async (v) => {
    await Vaxel.api("POST", "/api/schedules", v);
    $("schedule-form").reset();
    await loadSchedules();
  });

  try {
    await Promise.all([loadSubs(), loadSchedules()]);
  } catch (e) {
    $("message").textContent = e.message;
  }
})();
