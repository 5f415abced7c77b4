// Roles: a retailer user sees the till only and is refused any other page (403), a change sent
// without the page's CSRF token is refused, and fulfilment cannot reach the money.
"use strict";
const { ADMIN, check, login, shot, run } = require("./lib");

run(async b => {
	const till = await login(b, "till");
	check("a retailer user lands on the till", till.url().endsWith("/admin/till"), till.url());
	await till.waitForSelector("nav a");
	const nav = await till.$$eval("nav a", as => as.map(a => a.textContent));
	check("a retailer user's menu is the till alone", nav.join(",") === "Till", nav.join(","));
	const r = await till.goto(ADMIN + "/admin/orders");
	check("the orders page is refused to a retailer user (403)", r.status() === 403, "status " + r.status());
	check("... and says why", (await till.textContent("h1")) === "Not for your role", await till.textContent("h1"));
	await shot(till, "forbidden");
	await till.goto(ADMIN + "/admin/till");
	await till.waitForSelector("nav a");
	const api = await till.evaluate(async () => (await fetch("/admin/api/orders")).status);
	check("the orders JSON is refused to a retailer user (403)", api === 403, "status " + api);
	const noCsrf = await till.evaluate(async () => (await fetch("/admin/api/till/pay", { method: "POST",
		headers: { "Content-Type": "application/json" }, body: '{"ref": "900000000000000", "amount_cents": 100}' })).status);
	check("a change without the CSRF token is refused (403)", noCsrf === 403, "status " + noCsrf);
	await till.context().close();

	const ful = await login(b, "fulfilment");
	await ful.waitForSelector("nav a");
	const fnav = await ful.$$eval("nav a", as => as.map(a => a.textContent));
	check("fulfilment sees Today and Orders only", fnav.join(",") === "Today,Orders", fnav.join(","));
	const money = await ful.evaluate(async () => (await fetch("/admin/api/money/settlement")).status);
	check("fulfilment is refused the money (403)", money === 403, "status " + money);
	await ful.context().close();
});
