"use strict";
// Customer 360: one customer (found by number or name), everything that happened to them, newest
// first, and what staff may do.
const $ = id => document.getElementById(id);
let number = null, older = null;
const evRow = e => office.el("tr", { class: "ev-" + e.kind }, office.el("td", {}, e.at), office.el("td", {}, e.summary),
	office.el("td", {}, e.kind.replace("_", " ")));
async function load(n) {
	const c = await office.api("customer?msisdn=" + encodeURIComponent(n));
	number = c.msisdn;
	older = c.next_before;
	$("older").hidden = !older;
	$("refund").hidden = !["owner", "finance"].includes(office.me.role);
	$("c-lock").textContent = c.lockout.locked_until ? "PIN locked until " + c.lockout.locked_until :
		c.lockout.failures + " failed PIN(s), not locked";
	$("who-card").hidden = $("actions").hidden = $("timeline").hidden = false;
	$("c-number").textContent = c.msisdn;
	$("c-since").textContent = "since " + c.since + " · language " + c.lang;
	$("c-available").textContent = office.money(c.credit.available_cents) + " available";
	$("c-credit").textContent = "limit " + office.money(c.credit.limit_cents) + ", used " +
		office.money(c.credit.used_cents) + ", store credit " + office.money(c.credit.store_credit_cents);
	$("limit").hidden = !office.me.pages.some(p => p.path === "money");
	$("timeline").querySelector("tbody").replaceChildren(...c.timeline.map(evRow));
}
$("older").addEventListener("click", async () => {
	try {
		const c = await office.api("customer?msisdn=" + encodeURIComponent(number) + "&before=" + encodeURIComponent(older));
		$("timeline").querySelector("tbody").append(...c.timeline.map(evRow));
		older = c.next_before;
		$("older").hidden = !older;
	} catch (e) { office.say(e.message, "error"); }
});
// each action: confirmed, then the JSON (CSRF-checked, audited), then the customer again
async function act(ev, question, path, body, done) {
	ev.preventDefault();
	if (!confirm(question)) return;
	try {
		const r = await office.api(path, body);
		ev.target.reset();
		office.say(done(r), "info");
		await load(number);
	} catch (e) { office.say(e.message, "error"); }
}
$("note").addEventListener("submit", ev => act(ev, "Add this note to " + number + "?\n\n" + ev.target.text.value,
	"customer/note", { msisdn: number, text: ev.target.text.value }, () => "Note added."));
$("unlock").addEventListener("submit", ev => act(ev, "Lift the PIN lockout of " + number + "?", "customer/unlock",
	{ msisdn: number }, r => r.was_locked ? "Lockout lifted." : "Not locked; the failed-PIN count is reset."));
$("refund").addEventListener("submit", ev => {
	const f = ev.target, rand = f.rand.value.trim();
	const cents = rand ? Math.round(parseFloat(rand) * 100) : 0;
	if (!(cents >= 0)) { ev.preventDefault(); office.say("Give an amount in rand.", "error"); return; }
	const body = { order: Number(f.order.value), amount_cents: cents, reason: f.reason.value };
	if (f.to.value) body.to = f.to.value;
	return act(ev, "Refund " + (cents ? office.money(cents) : "everything left") + " of order #" + f.order.value +
		(f.to.value ? " to store credit" : " to where it came from") + "? The customer gets an SMS.", "customer/refund", body,
		r => "Refunded " + office.money(r.refunded_cents) + " to " + r.to.replaceAll("_", " ") + ".");
});
// The search box takes a number or (any part of) a name: one match opens, several are listed.
function open1(msisdn) {
	$("matches").hidden = true;
	history.replaceState(null, "", "?msisdn=" + encodeURIComponent(msisdn));
	return load(msisdn);
}
async function find(q) {
	const r = await office.api("customer/find?q=" + encodeURIComponent(q));
	if (r.matches.length === 1) return open1(r.matches[0].msisdn);
	$("who-card").hidden = $("actions").hidden = $("timeline").hidden = true;
	$("matches").hidden = !r.matches.length;
	if (!r.matches.length) return office.say("No customer has that number or a name with \"" + q + "\" in it.", "error");
	office.say(r.matches.length + (r.more ? "+" : "") + " customers match: choose one" +
		(r.more ? " (the first 20; type more of the name)." : "."), "info");
	$("matches").querySelector("tbody").replaceChildren(...r.matches.map(m => {
		const b = office.el("button", { type: "button", class: "secondary" }, "Open");
		b.addEventListener("click", () => { office.say(""); open1(m.msisdn).catch(e => office.say(e.message, "error")); });
		return office.el("tr", {}, office.el("td", {}, m.name || "-"), office.el("td", {}, m.msisdn),
			office.el("td", {}, m.since), office.el("td", {}, b));
	}));
}
$("find").addEventListener("submit", ev => {
	ev.preventDefault();
	office.say("");
	find($("msisdn").value.trim()).catch(e => office.say(e.message, "error"));
});
$("sms").addEventListener("submit", async ev => {
	ev.preventDefault();
	const text = ev.target.text.value;
	if (!confirm("Send this SMS to " + number + "?\n\n" + text)) return;
	try {
		await office.api("customer/sms", { msisdn: number, text });
		ev.target.reset();
		office.say("SMS queued.", "info");
		await load(number);
	} catch (e) { office.say(e.message, "error"); }
});
$("limit").addEventListener("submit", async ev => {
	ev.preventDefault();
	const cents = Math.round(parseFloat(ev.target.rand.value) * 100);
	if (!(cents >= 0)) { office.say("Give an amount in rand.", "error"); return; }
	if (!confirm("Set the credit limit of " + number + " to " + office.money(cents) + "?")) return;
	try {
		await office.api("customer/credit-limit", { msisdn: number, limit_cents: cents });
		office.say("Credit limit set.", "info");
		await load(number);
	} catch (e) { office.say(e.message, "error"); }
});
office.shell().then(() => {
	const n = new URLSearchParams(location.search).get("msisdn");
	if (n) { $("msisdn").value = n; return load(n); }
}).catch(e => office.say(e.message, "error"));
