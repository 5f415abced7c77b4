"use strict";
// Customer 360: one number, everything that happened to it, newest first, and what staff may do.
const $ = id => document.getElementById(id);
let number = null;
async function load(n) {
	const c = await office.api("customer?msisdn=" + encodeURIComponent(n));
	number = c.msisdn;
	$("who-card").hidden = $("actions").hidden = $("timeline").hidden = false;
	$("c-number").textContent = c.msisdn;
	$("c-since").textContent = "since " + c.since + " · language " + c.lang;
	$("c-available").textContent = office.money(c.credit.available_cents) + " available";
	$("c-credit").textContent = "limit " + office.money(c.credit.limit_cents) + ", used " +
		office.money(c.credit.used_cents) + ", store credit " + office.money(c.credit.store_credit_cents);
	$("limit").hidden = !office.me.pages.some(p => p.path === "money");
	$("timeline").querySelector("tbody").replaceChildren(...c.timeline.map(e => office.el("tr", { class: "ev-" + e.kind },
		office.el("td", {}, e.at), office.el("td", {}, e.summary), office.el("td", {}, e.kind.replace("_", " ")))));
}
$("find").addEventListener("submit", ev => {
	ev.preventDefault();
	office.say("");
	history.replaceState(null, "", "?msisdn=" + encodeURIComponent($("msisdn").value));
	load($("msisdn").value).catch(e => office.say(e.message, "error"));
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
