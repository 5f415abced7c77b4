"use strict";
// Money: what each retailer's tills took in cash (and so owe the shop), by day.
async function settlement(days) {
	const j = await office.api("money/settlement?days=" + days);
	const tb = document.querySelector("#settlement tbody");
	tb.replaceChildren(...j.settlement.map(s => office.el("tr", {}, office.el("td", {}, s.day),
		office.el("td", {}, s.retailer), office.el("td", {}, String(s.payments)), office.el("td", {}, office.money(s.owed_cents)))));
	if (!j.settlement.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 4 }, "no till payments in these days")));
}
document.getElementById("days").addEventListener("submit", ev => {
	ev.preventDefault();
	settlement(ev.target.days.value).catch(e => office.say(e.message, "error"));
});
async function retailers() {
	const j = await office.api("money/retailers");
	document.querySelector("#retailers tbody").replaceChildren(...j.retailers.map(r => office.el("tr", {},
		office.el("td", {}, r.name), office.el("td", {}, r.key_id || "no key yet"), office.el("td", {}, r.created || ""),
		office.el("td", {}, r.key_id ? (r.revoked ? "revoked " + r.revoked : "active") : ""))));
}
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
