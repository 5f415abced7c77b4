"use strict";
// The orders board: a tab per status with its count, a filter by number, pages of 50, and a
// status change for the ticked orders (each customer gets the SMS the CLI's change sends).
const q = new URLSearchParams(location.search);
let before = null;
function row(o) {
	const tr = office.el("tr", {},
		office.el("td", {}, office.el("input", { type: "checkbox", name: "id", value: String(o.id), "aria-label": "order " + o.id })),
		office.el("td", {}, "#" + o.id), office.el("td", {}, o.created), office.el("td", {}, o.msisdn),
		office.el("td", {}, o.qty + " × " + o.product), office.el("td", { class: "delivery" }, o.delivery_address,
			o.delivery_note ? office.el("div", { class: "note" }, o.delivery_note) : ""),
		office.el("td", {}, office.money(o.total_cents)),
		office.el("td", { class: "status" }, o.status.replace("_", " ")));
	const slip = office.el("button", { type: "button", class: "secondary noprint" }, "Packing slip");
	slip.addEventListener("click", () => packing(o));
	tr.append(office.el("td", {}, slip));
	return tr;
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
