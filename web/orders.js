"use strict";
// The orders board: a tab per status with its count, a filter by number, pages of 50, and a
// status change for the ticked orders (each customer gets the SMS the CLI's change sends), and
// "Cash received" on a cash-on-delivery order for fulfilment, finance and the owner.
const q = new URLSearchParams(location.search);
let before = null;
function row(o) {
	const tr = office.el("tr", {},
		office.el("td", {}, office.el("input", { type: "checkbox", name: "id", value: String(o.id), "aria-label": "order " + o.id })),
		office.el("td", {}, "#" + o.id), office.el("td", {}, o.created), office.el("td", {}, o.msisdn),
		office.el("td", {}, o.qty + " × " + o.product), office.el("td", { class: "delivery" }, o.delivery_address,
			o.delivery_note ? office.el("div", { class: "note" }, o.delivery_note) : ""),
		office.el("td", {}, office.money(o.total_cents)),
		office.el("td", { class: "status" }, o.status.replace("_", " "), o.cod ? office.el("div", { class: "note" }, "cash on delivery") : ""));
	const slip = office.el("button", { type: "button", class: "secondary noprint" }, "Packing slip");
	slip.addEventListener("click", () => packing(o));
	const td = office.el("td", {}, slip);
	// a courier hands in the cash of a cash-on-delivery order: only those who may see the button
	if (mayCash && o.cod && o.status === "awaiting_payment") {
		const cash = office.el("button", { type: "button", class: "noprint cash" }, "Cash received");
		cash.addEventListener("click", () => cashReceived(o));
		td.append(" ", cash);
	}
	tr.append(td);
	return tr;
}
let mayCash = false;
async function cashReceived(o) {
	if (!confirm("Order #" + o.id + ": " + office.money(o.due_cents) +
		" cash on delivery received? The order becomes paid and the customer gets an SMS.")) return;
	try {
		const r = await office.api("orders/cod-paid", { order: o.id });
		office.say("Order #" + r.order + " paid: " + office.money(r.amount_cents) + " cash received (" +
			r.confirmed_by + ")", "info");
		await load(false);
	} catch (e) { office.say(e.message, "error"); }
}
function packing(o) {
	// the slip is this page printed with only the order on it
	const w = document.querySelector("main");
	const keep = w.innerHTML;
	w.replaceChildren(office.el("h1", {}, "Packing slip: order #" + o.id),
		office.el("p", {}, "Customer: " + o.msisdn), office.el("p", {}, "Placed: " + o.created),
		office.el("p", { class: "big" }, o.qty + " × " + o.product), office.el("p", {}, "Total " + office.money(o.total_cents)),
		office.el("p", {}, "Deliver to: " + (o.delivery_address || "collect at the shop")),
		o.delivery_note ? office.el("p", {}, "Instructions: " + o.delivery_note) : "");
	window.print();
	w.innerHTML = keep;
	location.reload();
}
async function load(more) {
	const p = new URLSearchParams();
	if (q.get("status")) p.set("status", q.get("status"));
	if (q.get("msisdn")) p.set("msisdn", q.get("msisdn"));
	if (more && before) p.set("before", before);
	const j = await office.api("orders?" + p);
	mayCash = j.may_confirm_cash;
	document.getElementById("bulk").hidden = !j.may_change_status;
	const tabs = document.getElementById("tabs");
	tabs.replaceChildren(office.el("a", { href: "?", class: q.get("status") ? "" : "on" }, "All"));
	for (const [s, n] of Object.entries(j.counts))
		tabs.append(office.el("a", { href: "?status=" + s, class: q.get("status") === s ? "on" : "" },
			s.replace("_", " ") + " (" + n + ")"));
	const tb = document.querySelector("#board tbody");
	if (!more) tb.replaceChildren();
	j.orders.forEach(o => tb.append(row(o)));
	before = j.next_before;
	document.getElementById("more").hidden = !before;
}
document.getElementById("filters").msisdn.value = q.get("msisdn") || "";
document.getElementById("filters").addEventListener("submit", ev => {
	ev.preventDefault();
	const n = ev.target.msisdn.value.trim();
	n ? q.set("msisdn", n) : q.delete("msisdn");
	location.search = q.toString();
});
document.getElementById("all").addEventListener("change", ev =>
	document.querySelectorAll("#board tbody input[name=id]").forEach(c => { c.checked = ev.target.checked; }));
document.getElementById("more").addEventListener("click", () => load(true).catch(e => office.say(e.message, "error")));
document.getElementById("bulk").addEventListener("submit", async ev => {
	ev.preventDefault();
	const ids = [...document.querySelectorAll("#board tbody input[name=id]:checked")].map(c => Number(c.value));
	if (!ids.length) { office.say("Tick the orders to change first.", "error"); return; }
	const status = ev.target.status.value;
	if (!confirm(ids.length + " order(s) become " + status + "; each customer gets an SMS. Go on?")) return;
	try {
		const r = await office.api("orders/status", { ids, status });
		office.say(r.changed.length + " changed to " + status + (r.refused.length ?
			"; not changed (not paid, or already further): #" + r.refused.join(", #") : ""),
			r.refused.length ? "error" : "info");
		await load(false);
	} catch (e) { office.say(e.message, "error"); }
});
office.shell().then(() => load(false)).catch(e => office.say(e.message, "error"));
