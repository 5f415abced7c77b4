"use strict";
// The web phone: a USSD dialogue as a handset has it, through the shop's own engine; each screen
// with its length as the network counts it (GSM-7 septets or UCS-2 units).
const $ = id => document.getElementById(id);
let session = null, inputs = [];
async function hop() {
	const r = await office.api("phone/hop", { msisdn: $("number").value, session, text: inputs.join("*") });
	$("screen").textContent = r.screen;
	$("count").textContent = r.units + (r.encoding === "GSM-7" ? " septets" : " UCS-2 units") + ", " +
		r.chars + " characters, " + r.encoding + (r.end ? " · session ended" : "");
	$("reply").hidden = r.end;
	if (!r.end) $("input").focus();
	await inbox();
}
async function inbox() {
	const j = await office.api("phone/inbox?msisdn=" + encodeURIComponent($("number").value));
	$("inbox").querySelector("tbody").replaceChildren(...j.inbox.map(m => office.el("tr", {},
		office.el("td", {}, m.at), office.el("td", {}, m.text || ("order #" + m.order + " " + (m.order_status || m.kind))),
		office.el("td", {}, m.status))));
}
$("setup").addEventListener("submit", ev => {
	ev.preventDefault();
	session = Date.now().toString(36) + "-" + Math.floor(Math.random() * 1e6).toString(36);
	inputs = [];
	hop().catch(e => office.say(e.message, "error"));
});
$("reply").addEventListener("submit", ev => {
	ev.preventDefault();
	inputs.push($("input").value.trim());
	$("input").value = "";
	hop().catch(e => office.say(e.message, "error"));
});
office.shell().then(inbox).catch(e => office.say(e.message, "error"));
