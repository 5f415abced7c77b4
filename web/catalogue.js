"use strict";
// Catalogue: what is on sale now, and a CSV checked by the importer's own parser, every bad line
// shown, nothing imported.
const $ = id => document.getElementById(id);
$("upload").addEventListener("submit", async ev => {
	ev.preventDefault();
	const f = $("file").files[0];
	if (!f) return;
	office.say("");
	try {
		const r = await office.api("catalogue/check", { csv: await f.text() });
		$("summary").textContent = r.ok ? r.rows + " products in " + r.categories + " categories, no problems."
			: r.problems.length + " problem(s): nothing can be imported until they are fixed.";
		$("problems").hidden = r.ok;
		$("problems").querySelector("tbody").replaceChildren(...r.problems.map(p =>
			office.el("tr", {}, office.el("td", {}, p.line ? String(p.line) : "-"), office.el("td", {}, p.reason))));
		$("next").hidden = !r.ok;
		$("cmd").textContent = "./src/spazactl catalog import " + f.name;
	} catch (e) { office.say(e.message, "error"); }
});
async function products() {
	const j = await office.api("catalogue/products");
	document.querySelector("#products tbody").replaceChildren(...j.products.map(p => office.el("tr", {},
		office.el("td", {}, p.category), office.el("td", {}, String(p.sku)), office.el("td", {}, p.name),
		office.el("td", {}, office.money(p.price_cents)), office.el("td", {}, String(p.stock)))));
}
office.shell().then(products).catch(e => office.say(e.message, "error"));
