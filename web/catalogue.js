"use strict";
// Catalogue: what is on sale now, each product's price and stock changed on its line; a CSV
// checked by the importer's own parser, every bad line shown, and once it is clean, Import sends
// that same text (with the digest the check gave it) and nothing else.
const $ = id => document.getElementById(id);
let checked = null;	// { csv, digest } of the last clean check; the only thing Import sends
$("upload").addEventListener("submit", async ev => {
	ev.preventDefault();
	const f = $("file").files[0];
	if (!f) return;
	office.say("");
	checked = null;
	try {
		const csv = await f.text();
		const r = await office.api("catalogue/check", { csv });
		$("summary").textContent = r.ok ? r.rows + " products in " + r.categories + " categories, no problems."
			: r.problems.length + " problem(s): nothing can be imported until they are fixed.";
		$("problems").hidden = r.ok;
		$("problems").querySelector("tbody").replaceChildren(...r.problems.map(p =>
			office.el("tr", {}, office.el("td", {}, p.line ? String(p.line) : "-"), office.el("td", {}, p.reason))));
		$("next").hidden = !r.ok;
		if (r.ok) checked = { csv, digest: r.digest };
	} catch (e) { office.say(e.message, "error"); }
});
// A new choice of file is not the checked one: Import waits for its check.
$("file").addEventListener("change", () => { checked = null; $("next").hidden = true; });
$("import").addEventListener("click", async () => {
	if (!checked || !confirm("Replace the catalogue with this file?")) return;
	try {
		const r = await office.api("catalogue/import", checked);
		checked = null;
		$("next").hidden = true;
		office.say("Imported " + r.products + " products in " + r.categories + " categories" +
			(r.retired ? "; " + r.retired + " retired (not in the file)." : "."), "info");
		await products();
	} catch (e) { office.say(e.message, "error"); }
});
// "17.99" or "17" in rand -> cents, exactly (no floating point); null when it is not an amount.
function cents(text) {
	const m = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(text);
	return m ? Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0")) : null;
}
async function save(p, price, stock) {
	const body = { sku: p.sku };
	const c = cents(price.value), s = /^\s*\d+\s*$/.test(stock.value) ? Number(stock.value) : null;
	if (c === null) return office.say("The price of " + p.name + " is an amount in rand, like 17.99.", "error");
	if (s === null) return office.say("The stock of " + p.name + " is a whole number, 0 or more.", "error");
	if (c !== p.price_cents) body.price_cents = c;
	if (s !== p.stock) body.stock = s;
	if (Object.keys(body).length === 1) return office.say("Nothing changed for " + p.name + ".", "info");
	try {
		const r = await office.api("catalogue/product", body);
		p.price_cents = r.price_cents;
		p.stock = r.stock;
		office.say(p.name + ": " + office.money(r.price_cents) + ", " + r.stock + " in stock.", "info");
	} catch (e) { office.say(p.name + ": " + e.message, "error"); }
}
async function products() {
	const j = await office.api("catalogue/products");
	document.querySelector("#products tbody").replaceChildren(...j.products.map(p => {
		const price = office.el("input", { size: "8", inputmode: "decimal", "aria-label": "price of " + p.name,
			value: (p.price_cents / 100).toFixed(2) });
		const stock = office.el("input", { size: "6", inputmode: "numeric", "aria-label": "stock of " + p.name,
			value: String(p.stock) });
		const btn = office.el("button", { type: "button", "aria-label": "save " + p.name }, "Save");
		btn.addEventListener("click", () => save(p, price, stock));
		return office.el("tr", { "data-sku": String(p.sku) }, office.el("td", {}, p.category),
			office.el("td", {}, String(p.sku)), office.el("td", {}, p.name), office.el("td", {}, price),
			office.el("td", {}, stock), office.el("td", {}, btn));
	}));
}
office.shell().then(products).catch(e => office.say(e.message, "error"));
