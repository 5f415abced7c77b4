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
office.shell().then(() => settlement(7)).catch(e => office.say(e.message, "error"));
