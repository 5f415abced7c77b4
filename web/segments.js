"use strict";
// Segments: the named RFM segments with their counts and mean scores, the shop's rule segments
// counted now, a segment's first members; the owner defines a rule segment (the server parses it
// with spazactl's parser and answers its reason when it does not parse).
const $ = id => document.getElementById(id);
const td = (t, attrs) => office.el("td", attrs || {}, t === null || t === undefined ? "-" : String(t));
async function members(name) {
	try {
		const m = await office.api("segments/members?name=" + encodeURIComponent(name));
		$("members-name").textContent = m.name;
		$("members-rule").textContent = m.rule;
		const tb = $("members").querySelector("tbody");
		tb.replaceChildren(...m.members.map(x => office.el("tr", {}, td(x.msisdn), td(x.lang), td(x.segment),
			td([x.r, x.f, x.m].map(v => v === null ? "-" : v).join(" "), { "data-label": "R F M" }),
			td(x.orders, { "data-label": "Paid orders" }), td(office.money(x.spent_cents), { "data-label": "Spent" }))));
		if (!m.members.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 6 }, "nobody yet")));
		$("members-box").hidden = false;
	} catch (e) { office.say(e.message, "error"); }
}
const showButton = name => { const b = office.el("button", { type: "button", class: "secondary" }, "Members");
	b.addEventListener("click", () => members(name)); return office.el("td", {}, b); };
async function load() {
	const s = await office.api("segments");
	$("named").querySelector("tbody").replaceChildren(...s.named.map(n => office.el("tr", { "data-segment": n.segment },
		td(n.segment), td(n.customers, { "data-label": "Customers" }), td(n.r, { "data-label": "R" }),
		td(n.f, { "data-label": "F" }), td(n.m, { "data-label": "M" }),
		td(n.spent_cents === null ? null : office.money(n.spent_cents), { "data-label": "Spent" }),
		n.segment === "none" ? td("") : showButton(n.segment))));
	const tb = $("rules").querySelector("tbody");
	tb.replaceChildren(...s.rules.map(r => office.el("tr", { "data-segment": r.name }, td(r.name), td(r.rule),
		office.el("td", { class: "count", "data-label": "Members now" }, r.members ? r.members.total + " (en " + r.members.en + ", zu " +
			r.members.zu + ", af " + r.members.af + ")" : "not counted: " + (r.error || "try again")),
		td(r.since), showButton(r.name))));
	if (!s.rules.length) tb.append(office.el("tr", {}, office.el("td", { colspan: 5 }, "none of the shop's own yet")));
	$("define").hidden = $("rule-help").hidden = !s.may_define;
}
$("define").addEventListener("submit", async ev => {
	ev.preventDefault();
	const f = ev.target;
	try {
		const r = await office.api("segments/define", { name: f.name.value, rule: f.rule.value });
		office.say("Segment " + r.name + (r.created ? " defined" : " changed") + ": " + r.rule +
			(r.members ? "; " + r.members.total + " members now." : "."), "info");
		await load();
	} catch (e) { office.say(e.message, "error"); }
});
office.shell().then(load).catch(e => office.say(e.message, "error"));
