"use strict";
// Funnel: per screen and the dimensions ticked (front end, language, segment, menu version), the
// sessions since a day, as `spazactl funnel --since --by`; the CSV download is its --csv, byte for byte.
const $ = id => document.getElementById(id);
const cols = ["screen", "front", "lang", "segment", "version", "entries", "end", "timeout", "abandon", "error", "back",
	"ordered", "paid", "s_per_hop"];
async function load(since) {
	const by = [...form.querySelectorAll("input[name=by]:checked")].map(b => b.value).join(",") || "none";
	const q = "funnel?since=" + encodeURIComponent(since) + "&by=" + encodeURIComponent(by);
	$("csv").href = "/admin/api/" + q + "&csv=1";
	const f = await office.api(q);
	const tb = $("funnel").querySelector("tbody");
	tb.replaceChildren(...f.rows.map(r => office.el("tr", {}, ...cols.map(c => office.el("td", {}, String(r[c]))))));
	if (!f.rows.length) tb.append(office.el("tr", {}, office.el("td", { colspan: cols.length }, "no sessions since " + since)));
}
const form = $("since");
form.addEventListener("submit", ev => {
	ev.preventDefault();
	office.say("");
	load(form.since.value).catch(e => office.say(e.message, "error"));
});
// thirty days back by default, as the guide's own example
form.since.value = new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10);
office.shell().then(() => load(form.since.value)).catch(e => office.say(e.message, "error"));
