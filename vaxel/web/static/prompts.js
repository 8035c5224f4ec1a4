// The prompts page: upload, play, activate per queue slot, hot prompts (docs/prompts.md).
"use strict";

(async () => {
  const s = Vaxel.requireSession();
  const $ = (id) => document.getElementById(id);
  Vaxel.header(s, true);
  const MAX_BYTES = 5 * 1024 * 1024; // the server's limit (it refuses more with 413)

  async function loadPrompts() {
    const out = await Vaxel.api("GET", "/api/prompts");
    const body = $("prompts").tBodies[0];
    body.replaceChildren();
    for (const p of out.prompts) {
      const buttons = [Vaxel.button("Play", async () => {
        const player = $("player");
        player.src = await Vaxel.blobUrl("/api/prompts/" + encodeURIComponent(p.name) + "/audio");
        player.hidden = false;
        player.dataset.prompt = p.name;
        await player.play().catch(() => {});
      })];
      if (p.stored) {
        buttons.push(Vaxel.button("Delete", async () => {
          await Vaxel.api("DELETE", "/api/prompts/" + encodeURIComponent(p.name));
          await loadPrompts();
        }));
      }
      const tr = Vaxel.rowWith([p.name, p.source, p.language, p.duration ? p.duration.toFixed(1) : "–", p.description || p.wording], buttons);
      tr.dataset.prompt = p.name;
      body.appendChild(tr);
    }
    for (const select of document.querySelectorAll(".prompt-choice")) {
      const keep = select.value;
      select.replaceChildren(...out.prompts.map((p) => new Option(p.name, p.name)));
      if (keep) select.value = keep;
    }
  }

  async function loadQueues() {
    const out = await Vaxel.api("GET", "/api/queues");
    for (const q of out.queues) {
      $("slot-queue").add(new Option(q.name ? q.name + " (" + q.id + ")" : q.id, q.id));
      $("hot-queue").add(new Option(q.id, q.id));
    }
  }

  async function loadSlots() {
    const queue = $("slot-queue").value;
    if (!queue) return;
    const out = await Vaxel.api("GET", "/api/queues/" + encodeURIComponent(queue) + "/prompts");
    const body = $("slots").tBodies[0];
    body.replaceChildren();
    const keep = $("slot-slot").value;
    $("slot-slot").replaceChildren();
    for (const [slot, v] of Object.entries(out.slots)) {
      $("slot-slot").add(new Option(slot, slot));
      const reset = v.custom ? [Vaxel.button("Standard", async () => {
        await Vaxel.api("DELETE", "/api/queues/" + encodeURIComponent(queue) + "/prompts/" + encodeURIComponent(slot));
        await loadSlots();
      })] : [];
      body.appendChild(Vaxel.rowWith([slot, v.prompt + (v.custom ? "" : " (standard)")], reset));
    }
    if (keep) $("slot-slot").value = keep;
  }

  async function loadHot() {
    const out = await Vaxel.api("GET", "/api/hot-prompts");
    const body = $("hot").tBodies[0];
    body.replaceChildren();
    for (const h of out.hot_prompts) {
      body.appendChild(Vaxel.rowWith(
        [h.prompt, h.queue === "*" ? "all queues" : h.queue, h.until ? new Date(h.until).toLocaleString() : "until switched off", h.active ? "yes" : "ended"],
        [Vaxel.button("Switch off", async () => {
          await Vaxel.api("DELETE", "/api/hot-prompts", { prompt: h.prompt, queue: h.queue });
          await loadHot();
        })],
      ));
    }
    if (!out.hot_prompts.length) body.appendChild(Vaxel.row(["none", "", "", "", ""]));
  }

  Vaxel.onSubmit($("upload-form"), async () => {
    const file = $("up-file").files[0];
    if (!file) throw new Error("Choose the audio file to upload.");
    if (file.size > MAX_BYTES) throw new Error("The file is " + file.size + " bytes; prompts may be at most 5 MB.");
    const form = new FormData();
    form.append("file", file, file.name);
    for (const name of ["name", "language", "description", "wording"]) {
      const v = $("up-" + name).value.trim();
      if (v) form.append(name, v);
    }
    if ($("up-replace").checked) form.append("replace", "true");
    const out = await Vaxel.upload("/api/prompts", form);
    $("message").textContent = "Uploaded " + out.name + " (" + (out.duration ? out.duration.toFixed(1) + " s" : "?") + ").";
    $("upload-form").reset();
    await loadPrompts();
  });
  Vaxel.onSubmit($("slot-form"), async (v) => {
    await Vaxel.api("PUT", "/api/queues/" + encodeURIComponent(v.queue) + "/prompts/" + encodeURIComponent(v.slot), { prompt: v.prompt });
    await loadSlots();
  });
  Vaxel.onSubmit($("hot-form"), async (v) => {
    const body = { prompt: v.prompt, queue: v.queue };
    if (v.until) body.until = new Date(v.until).toISOString();
    await Vaxel.api("POST", "/api/hot-prompts", body);
    await loadHot();
  });
  $("slot-queue").addEventListener("change", () => loadSlots().catch((e) => { $("message").textContent = e.message; }));

  try {
    await Promise.all([loadPrompts(), loadQueues()]);
    await Promise.all([loadSlots(), loadHot()]);
  } catch (e) {
    $("message").textContent = e.message;
  }
})();
