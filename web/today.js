"use strict";
// Today: what the shop did since midnight and what needs a person now; refreshed every 30 s.
async function today() {
	const t = await office.api("today");
	const cards = document.getElementById("cards");
	const a = t.alarms;
	const card = (title, big, small, bad) => office.el("div", { class: "card" },
		office.el("h2", {}, title), office.el("div", { class: "big" + (bad ? " bad" : "") }, big),
		office.el("div", {}, small));
	cards.replaceChildren(
		card("Orders today", String(t.orders.placed), office.money(t.orders.placed_cents) + " ordered"),
		card("Revenue today", office.money(t.orders.revenue_cents), t.orders.paid + " paid orders"),
		card("Live USSD sessions", String(t.ussd_live), ""),
		card("SMS queue", String(t.sms.queued), t.sms.delivery_pct + "% delivered of " + t.sms.sent + " sent today",
		     t.sms.queued > 100),
		card("Tickets past their clock", String(t.tickets.late), t.tickets.first_response_late + " unanswered late, " +
		     t.tickets.resolution_late + " unresolved late, of " + t.tickets.open + " open", t.tickets.late > 0),
		card("Database", a.database, "", a.database !== "ok"),
		card("Kannel link", a.box !== "off" ? a.box : a.kannel, "sendsms " + a.kannel),
		card("Failed-PIN budget", a.pin_budget_paused_s ? "paused " + a.pin_budget_paused_s + " s" : "ok", "",
		     a.pin_budget_paused_s > 0));
	const tb = document.querySelector("#payments tbody");
	tb.replaceChildren(...t.payments.map(p => office.el("tr", {}, office.el("td", {}, p.method.replace("_", " ")),
		office.el("td", {}, String(p.count)), office.el("td", {}, office.money(p.cents)))));
	if (!t.payments.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 3 }, "no payments yet today")));
}
office.shell().then(today).catch(e => office.say(e.message, "error"));
setInterval(() => today().catch(e => office.say(e.message, "error")), 30000);
