// Sign in: POST /api/login, keep the token for this tab, go where the role belongs.
"use strict";

(async () => {
  const s = Vaxel.session();
  if (s && s.token) {
    try {
      const me = await Vaxel.api("GET", "/api/me");
      location.replace(Vaxel.home(me.user));
      return;
    } catch (e) {
      Vaxel.clearSession(); // expired or revoked: sign in again
    }
  }
  const form = document.getElementById("login-form");
  const error = document.getElementById("error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const button = document.getElementById("submit");
    button.disabled = true;
    try {
      const login = await Vaxel.api("POST", "/api/login", {
        user: document.getElementById("user").value,
        password: document.getElementById("password").value,
      });
      Vaxel.saveSession(login);
      location.assign(Vaxel.home(login.user));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      button.disabled = false;
    }
  });
})();
