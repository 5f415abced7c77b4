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
	$("takings").textContent = office.money(t.cents);
	$("takings-n").textContent = t.payments + " payment(s), " + t.reversed + " reversed";
	$("owed").textContent = office.money(t.owed_cents);
}
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
