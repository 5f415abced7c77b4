"use strict";
// Campaigns: each with its state and `campaign report`'s figures; a preview (the audience now and
// each language as the longest name reads it, linted); the owner creates, starts, pauses and
// resumes. Sending is spazad's, with consent, the cap and the quiet hours (doc/crm.md).
const $ = id => document.getElementById(id);
const td = (t, label) => office.el("td", label ? { "data-label": label } : {}, t === null || t === undefined ? "-" : String(t));
let mayChange = false;
async function preview(name) {
	try {
		const p = await office.api("campaigns/preview?name=" + encodeURIComponent(name));
		$("pv-name").textContent = p.name;
		$("pv-state").textContent = p.state;
		$("pv-total").textContent = String(p.audience.total);
		$("pv-langs").textContent = "en " + p.audience.en + ", zu " + p.audience.zu + ", af " + p.audience.af;
		$("pv-rule").textContent = p.segment !== "-" ? "segment " + p.segment : p.rule;
		$("pv-start").textContent = p.start;
		$("pv-answer").textContent = (p.keyword ? ", keyword " + p.keyword : "") + (p.code ? ", dial code " + p.code : "");
		$("pv-texts").querySelector("tbody").replaceChildren(...p.texts.map(t => office.el("tr", { "data-lang": t.lang },
			td(t.lang), office.el("td", { class: t.ok ? "ok" : "bad" }, (t.ok ? "ok: " : "FAIL: ") + t.why),
			office.el("td", { class: "lint" }, t.text))));
		$("preview").hidden = false;
	} catch (e) { office.say(e.message, "error"); }
}
async function act(name, action) {
	if (!confirm(action[0].toUpperCase() + action.slice(1) + " campaign " + name + "?")) return;
	try {
		const r = await office.api("campaigns/state", { name, action });
		office.say("Campaign " + r.name + " is " + r.state +
			(r.recipients !== undefined ? ": " + r.recipients + " recipients." : "."), "info");
		await load();
	} catch (e) { office.say(e.message, "error"); }
}
function buttons(c) {
	const cell = office.el("td", {});
	const b = (label, fn, cls) => { const x = office.el("button", { type: "button", class: cls || "secondary" }, label);
		x.addEventListener("click", fn); cell.append(x, " "); };
	b("Preview", () => preview(c.name));
	if (mayChange && c.state === "draft") b("Start", () => act(c.name, "start"), "");
	if (mayChange && c.state === "running") b("Pause", () => act(c.name, "pause"), "");
	if (mayChange && c.state === "paused") b("Resume", () => act(c.name, "resume"), "");
	return cell;
}
async function load() {
	const l = await office.api("campaigns");
	mayChange = l.may_change;
	const tb = $("campaigns").querySelector("tbody");
	tb.replaceChildren(...l.campaigns.map(c => office.el("tr", { "data-campaign": c.name }, td(c.name), td(c.state),
		td(c.report.recipients, "Audience"), td(c.report.sent, "Sent"), td(c.report.delivered, "Delivered"),
		td(c.report.failed, "Failed"), td(c.report.opted_out, "Opted out"), td(c.report.dialled, "Dialled"),
		td(c.report.ordered, "Ordered"), td(c.report.paid, "Paid"), td(office.money(c.report.revenue_cents), "Revenue"),
		buttons(c))));
	if (!l.campaigns.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 12 }, "no campaigns yet")));
	$("create-box").hidden = !mayChange;
	if (mayChange) {
		const s = await office.api("segments");
		const sel = document.querySelector("#create select[name=segment]");
		sel.replaceChildren(office.el("option", { value: "" }, "(a rule instead)"),
			...s.named.filter(n => n.segment !== "none").map(n => office.el("option", { value: n.segment }, n.segment)),
			...s.rules.map(r => office.el("option", { value: r.name }, r.name)));
	}
}
$("create").addEventListener("submit", async ev => {
	ev.preventDefault();
	const f = ev.target, body = {};
	for (const k of ["name", "text_en", "text_zu", "text_af", "offer", "segment", "rule", "at", "keyword", "code"])
		if (f[k].value.trim()) body[k] = f[k].value.trim();
	try {
		const r = await office.api("campaigns/create", body);
		office.say("Campaign " + r.name + " created (" + r.rule + "): preview it, then start it.", "info");
		f.reset();
		await load();
		await preview(r.name);
	} catch (e) { office.say(e.message, "error"); }
});
office.shell().then(load).catch(e => office.say(e.message, "error"));
