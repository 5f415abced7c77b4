"use strict";
document.getElementById("login").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const f = ev.target, m = document.getElementById("msg");
	const r = await fetch("/admin/api/login", {
		method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
		body: JSON.stringify({ login: f.login.value.trim(), password: f.password.value }),
	});
	const j = await r.json().catch(() => ({}));
	if (r.ok) { location.href = "/admin/"; return; }
	m.hidden = false;
	m.textContent = j.error || "login failed";
});
