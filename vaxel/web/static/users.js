// The users page: users (create, unlock, delete) and their API tokens (docs/access.md).
"use strict";

(async () => {
  const s = Vaxel.requireSession();
  const $ = (id) => document.getElementById(id);
  Vaxel.header(s, true);
  let tokensOf = null;

  async function loadUsers() {
    const out = await Vaxel.api("GET", "/api/users");
    const body = $("users").tBodies[0];
    body.replaceChildren();
    for (const u of out.users) {
      const buttons = [Vaxel.button("Tokens", () => loadTokens(u.name))];
      if (u.locked) {
        buttons.push(Vaxel.button("Unlock", async () => {
          await Vaxel.api("POST", "/api/users/" + encodeURIComponent(u.name) + "/unlock");
          await loadUsers();
        }));
      }
      if (u.name !== s.user.name) {
        buttons.push(Vaxel.button("Delete", async () => {
          if (!confirm("Delete user " + u.name + "?")) return;
          await Vaxel.api("DELETE", "/api/users/" + encodeURIComponent(u.name));
          await loadUsers();
        }));
      }
      const tr = Vaxel.rowWith([u.name, u.role, u.agent, u.email, u.statistics ? "yes" : "no", u.locked ? "until " + new Date(u.locked_until).toLocaleTimeString() : "no"], buttons);
      tr.dataset.user = u.name;
      body.appendChild(tr);
    }
  }

  async function loadTokens(name) {
    tokensOf = name;
    $("t-user").textContent = name;
    $("token-form").hidden = false;
    const out = await Vaxel.api("GET", "/api/users/" + encodeURIComponent(name) + "/tokens");
    const body = $("tokens").tBodies[0];
    body.replaceChildren();
    for (const t of out.tokens) {
      body.appendChild(Vaxel.rowWith([t.id, t.label, new Date(t.created_at).toLocaleString()], [
        Vaxel.button("Revoke", async () => {
          await Vaxel.api("DELETE", "/api/users/" + encodeURIComponent(name) + "/tokens/" + t.id);
          await loadTokens(name);
        }),
      ]));
    }
    if (!out.tokens.length) body.appendChild(Vaxel.row(["none", "", "", ""]));
  }

  Vaxel.onSubmit($("user-form"), async (v) => {
    const body = { name: v.name, role: v.role, password: v.password, statistics: v.statistics };
    if (v.agent) body.agent = v.agent;
    if (v.email) body.email = v.email;
    await Vaxel.api("POST", "/api/users", body);
    $("user-form").reset();
    $("message").textContent = "User " + v.name + " created.";
    await loadUsers();
  });
  Vaxel.onSubmit($("token-form"), async (v) => {
    const out = await Vaxel.api("POST", "/api/users/" + encodeURIComponent(tokensOf) + "/tokens", v.label ? { label: v.label } : {});
    $("new-token").textContent = "New token (shown once): " + out.token.token;
    $("new-token").hidden = false;
    $("token-form").reset();
    await loadTokens(tokensOf);
  });

  try {
    await loadUsers();
  } catch (e) {
    $("message").textContent = e.message;
  }
})();
