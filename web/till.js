"use strict";
// The till page: a USB scanner types the slip number and Enter, which submits the form; the
// cashier confirms the cash taken once (the server makes it one payment whatever is clicked).
let slip = null;
const $ = id => document.getElementById(id);
function show(s) {
	slip = s;
	$("slip").hidden = false;
	$("s-ref").textContent = s.ref;
	$("s-amount").textContent = office.money(s.amount_cents);
	$("s-status").textContent = s.status;
	$("s-expires").textContent = s.expires_at.replace("T", " ").replace("Z", " UTC");
	$("s-order").textContent = String(s.order);
	$("pay").hidden = !s.payable;
	$("reverse").hidden = s.status !== "paid";
	$("print").hidden = s.status !== "paid";
}
async function takings() {
	const t = await office.api("till/takings");
	$("takings").textContent = office.money(t.cents + t.cod_cents);
	$("takings-n").textContent = t.payments + " slip payment(s), " + t.reversed + " reversed, " +
		t.cod_payments + " cash on delivery (" + office.money(t.cod_cents) + ")";
	$("owed").textContent = office.money(t.owed_cents);
}
// Cash on delivery: the order number the courier's slip or the customer's SMS gives. The
// server takes the cash once for the order, whatever is clicked (a second click is the first
// answer) and counts it in what this shop owes.
let cod = null;
function showCod(o) {
	cod = o;
	$("cod").hidden = false;
	$("c-order").textContent = String(o.order);
	$("c-amount").textContent = office.money(o.amount_cents);
	$("c-status").textContent = o.order_status.replace("_", " ");
	$("c-by").textContent = o.confirmed ? (o.by_you ? " · cash taken here" : " · cash taken elsewhere") : "";
	$("cod-pay").hidden = !o.payable;
}
async function findCod(order) {
	office.say("");
	try { showCod(await office.api("till/cod?order=" + encodeURIComponent(order.trim().replace(/^#/, "")))); }
	catch (e) { $("cod").hidden = true; office.say(e.message, "error"); }
}
$("cod-find").addEventListener("submit", ev => { ev.preventDefault(); findCod($("cod-order").value); });
$("cod-pay").addEventListener("click", async () => {
	if (!confirm("Take " + office.money(cod.amount_cents) + " cash for order #" + cod.order + "?")) return;
	try {
		const r = await office.api("till/cod", { order: cod.order, amount_cents: cod.amount_cents });
		await findCod(String(cod.order));
		office.say("Cash taken: " + office.money(r.amount_cents) + " for order #" + r.order, "info");
		await takings();
	} catch (e) { office.say(e.message, "error"); }
});
async function find(ref) {
	office.say("");
	try { show(await office.api("till/slip?ref=" + encodeURIComponent(ref))); }
	catch (e) { $("slip").hidden = true; office.say(e.message, "error"); }
}
$("find").addEventListener("submit", ev => { ev.preventDefault(); find($("ref").value); });
$("pay").addEventListener("click", async () => {
	if (!confirm("Take " + office.money(slip.amount_cents) + " cash for slip " + slip.ref + "?")) return;
	try {
		const r = await office.api("till/pay", { ref: slip.ref, amount_cents: slip.amount_cents });
		office.say("Paid: " + office.money(r.amount_cents) + " for order #" + r.order, "info");
		await find(slip.ref);
		await takings();
	} catch (e) { office.say(e.message, "error"); }
});
$("reverse").addEventListener("click", async () => {
	if (!confirm("Reverse the payment on slip " + slip.ref + " and give the cash back?")) return;
	try {
		await office.api("till/reverse", { ref: slip.ref });
		office.say("Reversed.", "info");
		await find(slip.ref);
		await takings();
	} catch (e) { office.say(e.message, "error"); }
});
$("print").addEventListener("click", () => {
	// the 80 mm receipt as a PDF the browser prints (format=png for a thermal printer's driver)
	window.open("/admin/api/till/receipt?format=pdf&ref=" + encodeURIComponent(slip.ref), "_blank");
});
office.shell().then(takings).catch(e => office.say(e.message, "error"));
