// The shell every page shares: who is logged in, the menu of the pages their role may use,
// the CSRF token every change sends, and one helper for the JSON API. No framework.
"use strict";
const office = {
	me: null,
	async api(path, body) {
		const opt = { headers: {}, credentials: "same-origin" };
		if (body !== undefined) {
			opt.method = "POST";
			opt.headers["Content-Type"] = "application/json";
			opt.headers["X-CSRF-Token"] = office.me ? office.me.csrf : "";
			opt.body = JSON.stringify(body);
		}
		const r = await fetch("/admin/api/" + path, opt);
		if (r.status === 401) { location.href = "/admin/login"; throw new Error("please log in"); }
		const j = await r.json().catch(() => ({ error: "no answer" }));
		if (!r.ok) throw new Error(j.error || ("error " + r.status));
		return j;
	},
	money(cents) { return "R" + (cents / 100).toFixed(2); },
	el(tag, attrs, ...kids) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
		for (const k of kids) e.append(k);
		return e;
	},
	say(text, kind) {
		const m = document.getElementById("msg");
		if (!m) return;
		m.className = "msg " + (kind || "info");
		m.textContent = text;
		m.hidden = !text;
	},
	async shell() {
		office.me = await office.api("me");
		const here = location.pathname.replace(/^\/admin\//, "");
		const nav = document.getElementById("nav");
		for (const p of office.me.pages) {
			const a = office.el("a", { href: "/admin/" + p.path }, p.label);
			if (p.path === here) a.setAttribute("aria-current", "page");
			nav.append(a);
		}
		document.getElementById("who").textContent = office.me.login + " (" + office.me.role + ")";
		document.getElementById("logout").addEventListener("click", async () => {
			await office.api("logout", {});
			location.href = "/admin/login";
		});
		return office.me;
	},
};
