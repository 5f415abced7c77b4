"use strict";
// Money: what each retailer's tills took in cash, slips and cash on delivery (and so owe the
// shop), by day.
async function settlement(days) {
	const j = await office.api("money/settlement?days=" + days);
	const tb = document.querySelector("#settlement tbody");
	tb.replaceChildren(...j.settlement.map(s => office.el("tr", {}, office.el("td", {}, s.day),
		office.el("td", {}, s.retailer), office.el("td", {}, String(s.payments)),
		office.el("td", {}, s.cod_payments + " (" + office.money(s.cod_cents) + ")"),
		office.el("td", {}, office.money(s.owed_cents)))));
	if (!j.settlement.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 5 }, "no till payments in these days")));
}
document.getElementById("days").addEventListener("submit", ev => {
	ev.preventDefault();
	settlement(ev.target.days.value).catch(e => office.say(e.message, "error"));
});
// The list never holds a secret (the API has none to give); a new key's secret lives only in the
// #new-key box of this page until "I have copied it" or the next key, and nowhere else.
const $m = id => document.getElementById(id);
function showKey(k) {
	$m("nk-retailer").textContent = k.name;
	$m("nk-id").textContent = k.key_id;
	$m("nk-secret").textContent = k.secret;
	$m("new-key").hidden = false;
}
function hideKey() {
	$m("nk-secret").textContent = $m("nk-id").textContent = $m("nk-retailer").textContent = "";
	$m("new-key").hidden = true;
}
$m("nk-done").addEventListener("click", hideKey);
async function newKey(r) {
	if (!confirm("Issue a new till key for " + r.name + "?" + (r.key_id && !r.revoked ?
		" Its key " + r.key_id + " stops working at once: the tills need the new secret." : ""))) return;
	try {
		showKey(await office.api("money/retailer-key", { retailer: r.id }));
		await retailers();
	} catch (e) { office.say(e.message, "error"); }
}
async function retailers() {
	const j = await office.api("money/retailers");
	const seen = new Set();	// one New key button per retailer, on its newest row
	document.querySelector("#retailers tbody").replaceChildren(...j.retailers.map(r => {
		let act = "";
		if (!seen.has(r.id)) {
			seen.add(r.id);
			act = office.el("button", { type: "button", class: "secondary", "aria-label": "new key for " + r.name }, "New key");
			act.addEventListener("click", () => newKey(r));
		}
		return office.el("tr", {}, office.el("td", {}, r.name), office.el("td", {}, r.key_id || "no key yet"),
			office.el("td", {}, r.created || ""),
			office.el("td", {}, r.key_id ? (r.revoked ? "revoked " + r.revoked : "active") : ""), office.el("td", {}, act));
	}));
}
$m("retailer-add").addEventListener("submit", async ev => {
	ev.preventDefault();
	const name = ev.target.retailer.value.trim();
	if (!confirm("Add the retailer " + name + " and issue its till key?")) return;
	try {
		showKey(await office.api("money/retailer", { name }));
		ev.target.reset();
		await retailers();
	} catch (e) { office.say(e.message, "error"); }
});
document.getElementById("vouchers").addEventListener("submit", async ev => {
	ev.preventDefault();
	const f = ev.target, count = Number(f.count.value), cents = Math.round(parseFloat(f.rand.value) * 100);
	if (!(cents > 0)) { office.say("Give the value in rand.", "error"); return; }
	if (!confirm("Issue " + count + " vouchers of " + office.money(cents) + "? The PINs download once, now.")) return;
	const r = await fetch("/admin/api/money/vouchers", { method: "POST", credentials: "same-origin",
		headers: { "Content-Type": "application/json", "X-CSRF-Token": office.me.csrf },
		body: JSON.stringify({ count, value_cents: cents, expires: f.expires.value }) });
	if (!r.ok) { office.say((await r.json().catch(() => ({}))).error || "error " + r.status, "error"); return; }
	const name = (r.headers.get("Content-Disposition") || "").replace(/^.*filename="([^"]+)".*$/, "$1") || "vouchers.csv";
	const a = office.el("a", { href: URL.createObjectURL(await r.blob()), download: name });
	document.body.append(a);
	a.click();
	a.remove();
	office.say(count + " vouchers issued: " + name + " is the only copy of their PINs.", "info");
	f.reset();
});
document.getElementById("check").addEventListener("click", async () => {
	const out = document.getElementById("ledger"), t = document.getElementById("violations");
	out.textContent = "checking...";
	try {
		const j = await office.api("money/ledger-check");
		out.textContent = j.ok ? "every invariant holds" : j.violations.length + " violation(s)";
		out.className = j.ok ? "ok" : "bad";
		t.hidden = j.ok;
		t.querySelector("tbody").replaceChildren(...j.violations.map(v => office.el("tr", {},
			office.el("td", {}, v.invariant), office.el("td", {}, v.detail))));
	} catch (e) { out.textContent = ""; office.say(e.message, "error"); }
});
office.shell().then(() => Promise.all([settlement(7), retailers()])).catch(e => office.say(e.message, "error"));
