// The back office's edits in the browser (issue 12): the owner checks a catalogue CSV and imports
// exactly it, then changes a price on its line; finance adds a retailer and sees its till key's
// secret once (gone once copied, and from a second view of the page), then rotates the key; a
// care agent finds customers by a part of their name. browser.sh made the file and the named
// customers (SPAZA_EDIT_*) and checks the database afterwards.
"use strict";
const { ADMIN, S, check, login, shot, run, env, waitFor } = require("./lib");
const CSV = env("SPAZA_EDIT_CSV"), SKU = env("SPAZA_EDIT_SKU"), STOCK = env("SPAZA_EDIT_STOCK");
const SURNAME = env("SPAZA_EDIT_SURNAME"), MS1 = env("SPAZA_EDIT_MSISDN1"), MS2 = env("SPAZA_EDIT_MSISDN2");
const msgHas = (page, text) => page.waitForFunction(t => {
	const m = document.getElementById("msg");
	return m && !m.hidden && m.textContent.includes(t);
}, text, { timeout: 15000 }).catch(() => {});

run(async b => {
	// ---- the catalogue: check, import, a price ----
	const own = await login(b, "owner", { wide: true });
	await own.goto(ADMIN + "/admin/catalogue");
	await waitFor(own, "#products tbody tr", "catalogue");
	check("the import waits for a clean check", await own.isHidden("#next"), "Import shown before any check");
	await own.setInputFiles("#file", CSV);
	await own.click("#upload button[type=submit]");
	await waitFor(own, "#next:not([hidden])", "catalogue check");
	check("a clean file: no problems, Import offered", (await own.textContent("#summary")).includes("no problems"),
		await own.textContent("#summary"));
	await shot(own, "catalogue-checked");
	await own.click("#import");
	await msgHas(own, "Imported");
	const said = await own.textContent("#msg");
	check("Import imports the checked file", /^Imported \d+ products in \d+ categories/.test(said), said);
	const stock = `#products tr[data-sku="${SKU}"] input[aria-label^="stock of"]`;
	await own.waitForFunction(([sel, v]) => { const i = document.querySelector(sel); return i && i.value === v; },
		[stock, STOCK], { timeout: 15000 }).catch(() => {});
	check("... the list shows the file's stock", (await own.inputValue(stock)) === STOCK, await own.inputValue(stock));
	check("... and Import is gone until the next check", await own.isHidden("#next"), "still shown");
	await shot(own, "catalogue-imported");

	const price = '#products tr[data-sku="101"] input[aria-label^="price of"]';
	const before = await own.inputValue(price);
	await own.fill(price, "18.49");
	await own.click('#products tr[data-sku="101"] button');
	await msgHas(own, "R18.49");
	check("a price changed on its line", (await own.textContent("#msg")).includes("R18.49"), await own.textContent("#msg"));
	await own.fill(price, "-3");
	await own.click('#products tr[data-sku="101"] button');
	await msgHas(own, "amount in rand");
	check("... a price that is not an amount is refused", (await own.textContent("#msg")).includes("amount in rand"),
		await own.textContent("#msg"));
	await own.reload();
	await waitFor(own, "#products tbody tr", "catalogue again");
	check("... and the new price is what the catalogue holds", (await own.inputValue(price)) === "18.49", await own.inputValue(price));
	await shot(own, "catalogue-price");
	await own.fill(price, before);	// the suite's price back, for the story
	await own.click('#products tr[data-sku="101"] button');
	await msgHas(own, "R" + before);
	await own.context().close();

	// ---- Money: a retailer, its till key shown once, a new key ----
	const shop = "Browser shop " + S;
	const fin = await login(b, "finance", { wide: true });
	await fin.goto(ADMIN + "/admin/money");
	await waitFor(fin, "#retailers tbody tr", "money");
	await fin.fill("#retailer-add input[name=retailer]", shop);
	await fin.click("#retailer-add button[type=submit]");
	await waitFor(fin, "#new-key:not([hidden])", "retailer key");
	const secret = (await fin.textContent("#nk-secret")).trim(), keyId = (await fin.textContent("#nk-id")).trim();
	check("adding a retailer shows its till key's secret", /^[0-9a-f]{64}$/.test(secret), JSON.stringify(secret));
	check("... with its key id, which the list shows too", /^rk/.test(keyId) && (await fin.textContent("#retailers")).includes(keyId),
		keyId);
	await shot(fin, "money-retailer-key");
	await fin.click("#nk-done");
	check("once copied, the secret is gone from the page", !(await fin.content()).includes(secret), "still in the page");
	await fin.reload();
	await waitFor(fin, "#retailers tbody tr", "money again");
	check("a second view of the page does not show it", !(await fin.content()).includes(secret) && await fin.isHidden("#new-key"),
		"the secret is in the page");
	await fin.click(`button[aria-label="new key for ${shop}"]`);
	await waitFor(fin, "#new-key:not([hidden])", "new key");
	const secret2 = (await fin.textContent("#nk-secret")).trim(), keyId2 = (await fin.textContent("#nk-id")).trim();
	check("New key: another secret, another key id", /^[0-9a-f]{64}$/.test(secret2) && secret2 !== secret && keyId2 !== keyId,
		keyId + " -> " + keyId2);
	const rows = await fin.$$eval("#retailers tbody tr", (trs, s) => trs.filter(t => t.textContent.includes(s)).map(t => t.textContent), shop);
	check("... the old key is listed revoked, the new one active",
		rows.some(r => r.includes(keyId) && r.includes("revoked")) && rows.some(r => r.includes(keyId2) && r.includes("active")),
		rows.join(" | "));
	await shot(fin, "money-retailers");
	await fin.context().close();
	console.log("RETAILER_KEYS " + keyId + " " + keyId2);

	// ---- Customer 360: find by name ----
	const care = await login(b, "care", { wide: true });
	await care.goto(ADMIN + "/admin/customer");
	await care.fill("#msisdn", SURNAME.toLowerCase());
	await care.press("#msisdn", "Enter");
	await waitFor(care, "#matches:not([hidden]) tbody tr", "find by name");
	const found = await care.$$eval("#matches tbody tr", trs => trs.map(t => t.textContent));
	check("a part of a name, in any case, lists every customer who has it",
		found.length === 2 && found.some(r => r.includes(MS1)) && found.some(r => r.includes(MS2)), found.join(" | "));
	await shot(care, "customer-find");
	await care.click(`#matches tr:has-text("${MS2}") button`);
	await waitFor(care, "#who-card:not([hidden])", "open a match");
	check("... and opens the one chosen", (await care.textContent("#c-number")) === MS2, await care.textContent("#c-number"));
	await care.fill("#msisdn", "Lindiwe " + SURNAME);
	await care.press("#msisdn", "Enter");
	await care.waitForFunction(ms => document.getElementById("c-number").textContent === ms, MS1, { timeout: 15000 }).catch(() => {});
	check("a name only one customer has opens that customer", (await care.textContent("#c-number")) === MS1 &&
		await care.isHidden("#matches"), await care.textContent("#c-number"));
	await shot(care, "customer-find-one");
	await care.context().close();
});
