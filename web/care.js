"use strict";
// Care: the ticket queue with its two clocks (first response, resolution), one ticket with its
// messages and steps, a reply by SMS, resolve and close; a "charged twice" ticket shows the
// double-charge detector's evidence, with a refund for finance and owners.
const $ = id => document.getElementById(id);
const q = new URLSearchParams(location.search);
const filter = q.get("filter") || "open";
let current = null;
function clock(due, breached) {
	return office.el("td", { class: breached ? "bad" : "" }, (breached ? "BREACHED " : "") + due);
}
async function queue() {
	for (const a of $("tabs").querySelectorAll("a"))
		a.className = a.getAttribute("href") === "?filter=" + filter ? "on" : "";
	const j = await office.api("care/tickets?filter=" + filter);
	$("clocks").textContent = "Clocks: a first response within " + j.first_response_min + " minutes, resolved within " +
		j.resolution_h + " hours.";
	const tb = $("queue").querySelector("tbody");
	tb.replaceChildren(...j.tickets.map(t => {
		const a = office.el("a", { href: "?filter=" + filter + "&id=" + t.id }, "#" + t.id);
		return office.el("tr", { class: t.first_breached || t.resolution_breached ? "breached" : "" },
			office.el("td", {}, a), office.el("td", {}, t.opened), office.el("td", {}, t.msisdn),
			office.el("td", {}, t.kind.replace("_", " ")), office.el("td", {}, t.order ? "#" + t.order : "-"),
			office.el("td", { class: "status" }, t.state), clock(t.first_due, t.first_breached),
			clock(t.resolve_due, t.resolution_breached), office.el("td", {}, String(t.messages)));
	}));
	if (!j.tickets.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 9 }, "no tickets")));
}
async function ticket(id) {
	const t = await office.api("care/ticket?id=" + id);
	current = t;
	$("ticket").hidden = false;
	$("t-title").textContent = "Ticket #" + t.id + ": " + t.kind.replace("_", " ") + " (" + t.state + ")";
	$("t-facts").replaceChildren("Customer ", office.el("a", { href: "/admin/customer?msisdn=" + encodeURIComponent(t.msisdn) }, t.msisdn),
		(t.order ? ", order #" + t.order : "") + ", opened " + t.opened + " by " + t.channel +
		", answered " + (t.answered || "not yet") + ", resolved " + (t.resolved || "not yet"));
	$("t-messages").querySelector("tbody").replaceChildren(...t.messages.map(m => office.el("tr", { class: "m-" + m.direction },
		office.el("td", {}, m.at), office.el("td", {}, m.direction === "in" ? "customer" : m.author),
		office.el("td", {}, m.direction === "step" ? "[" + m.step + "]" + (m.text ? " " + m.text : "") : (m.text || "")),
		office.el("td", {}, m.sms || ""))));
	$("t-dc").hidden = !t.double_charges;
	if (t.double_charges) {
		const tb = $("t-dc-rows").querySelector("tbody");
		tb.replaceChildren(...t.double_charges.map(d => {
			const td = office.el("td", {});
			if (t.may_refund && d.kind !== "same_amount_two_methods" && d.status !== "refunded") {
				const b = office.el("button", { type: "button", class: "dc-refund" }, "Refund " + office.money(d.amount_cents));
				b.addEventListener("click", () => dcRefund(d));
				td.append(b);
			}
			return office.el("tr", {}, office.el("td", {}, d.found), office.el("td", {}, "#" + d.order),
				office.el("td", {}, d.kind.replaceAll("_", " ")), office.el("td", {}, "#" + d.duplicate_payment),
				office.el("td", {}, office.money(d.amount_cents)), office.el("td", {}, d.status), td);
		}));
		if (!t.double_charges.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 7 }, "no double charge found")));
	}
	$("reply").hidden = $("state").hidden = t.state === "closed";
}
async function dcRefund(d) {
	if (!confirm("Refund " + office.money(d.amount_cents) + " paid twice for order #" + d.order + "? The customer gets an SMS.")) return;
	try {
		const r = await office.api("care/dc-refund", { id: d.id });
		office.say("Refunded " + office.money(r.refunded_cents) + " to " + r.to.replaceAll("_", " ") + ".", "info");
		await ticket(current.id);
	} catch (e) { office.say(e.message, "error"); }
}
$("reply").addEventListener("submit", async ev => {
	ev.preventDefault();
	const text = ev.target.text.value;
	if (!confirm("Send this SMS to " + current.msisdn + "?\n\n" + text)) return;
	try {
		await office.api("care/reply", { id: current.id, text });
		ev.target.reset();
		office.say("Reply queued; the ticket waits on the customer.", "info");
		await Promise.all([ticket(current.id), queue()]);
	} catch (e) { office.say(e.message, "error"); }
});
$("state").addEventListener("submit", async ev => {
	ev.preventDefault();
	const state = ev.submitter ? ev.submitter.value : "resolved";
	const note = ev.target.note.value.trim();
	if (!confirm("Mark ticket #" + current.id + " " + state + "?")) return;
	try {
		await office.api("care/state", note ? { id: current.id, state, note } : { id: current.id, state });
		ev.target.reset();
		office.say("Ticket #" + current.id + " " + state + ".", "info");
		await Promise.all([ticket(current.id), queue()]);
	} catch (e) { office.say(e.message, "error"); }
});
office.shell().then(() => Promise.all([queue(), q.get("id") ? ticket(q.get("id")) : null]))
	.catch(e => office.say(e.message, "error"));
