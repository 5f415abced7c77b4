// The other pages at work: the web phone dials the shop and counts the screen; the catalogue
// check shows every bad line of a CSV with its reason before anything is imported; a voucher
// batch's PIN file downloads once.
"use strict";
const { ADMIN, check, login, shot, run, env, waitFor } = require("./lib");
const BAD_CSV = env("SPAZA_BAD_CSV");

run(async b => {
	const page = await login(b, "owner", { wide: true });
	await page.goto(ADMIN + "/admin/phone");
	await page.fill("#number", "0829990077");
	await page.click("#setup button[type=submit]");
	await page.waitForFunction(() => document.getElementById("screen").textContent.includes("Welcome"));
	check("the web phone dials the shop's menu", (await page.textContent("#screen")).includes("1. Browse"),
		await page.textContent("#screen"));
	const count = await page.textContent("#count");
	check("... and counts the screen in GSM-7 septets", /^\d+ septets, \d+ characters, GSM-7$/.test(count), count);
	await page.fill("#input", "1");
	await page.press("#input", "Enter");
	await page.waitForFunction(() => !document.getElementById("screen").textContent.includes("Welcome"));
	check("a reply goes on through the menu", !(await page.textContent("#screen")).includes("Welcome"), await page.textContent("#screen"));
	await shot(page, "phone");

	await page.goto(ADMIN + "/admin/catalogue");
	await page.waitForSelector("#products tbody tr");
	check("the catalogue page lists what is on sale, with prices", (await page.textContent("#products")).includes("Coke 2L"),
		(await page.textContent("#products")).slice(0, 200));
	await page.setInputFiles("#file", BAD_CSV);
	await page.click("#upload button[type=submit]");
	await waitFor(page, "#problems:not([hidden]) tbody tr", "pages-1");
	const rows = await page.$$eval("#problems tbody tr", trs => trs.map(t => t.textContent));
	check("the catalogue check lists every bad line", rows.length >= 3, rows.length + " rows");
	check("... each with its line number and reason", rows.every(r => /^\d+\S/.test(r)), rows.join(" | "));
	check("... and says nothing was imported", (await page.textContent("#summary")).includes("nothing can be imported"),
		await page.textContent("#summary"));
	await shot(page, "catalogue-errors");

	await page.goto(ADMIN + "/admin/money");
	await page.fill("#vouchers input[name=count]", "2");
	await page.fill("#vouchers input[name=rand]", "20");
	const [download] = await Promise.all([page.waitForEvent("download"), page.click("#vouchers button[type=submit]")]);
	const lines = require("fs").readFileSync(await download.path(), "utf8").trim().split("\n");
	check("a voucher batch downloads its PIN file once", lines.length === 3 && /^\d{16},20\.00,/.test(lines[1]),
		lines.join(" | ").replace(/\d{12}(\d{4})/g, "...$1"));
	check("... named after its voucher ids", /^vouchers-\d+-\d+\.csv$/.test(download.suggestedFilename()),
		download.suggestedFilename());
	await page.waitForSelector("#msg:not([hidden])");
	check("... and the page says it is the only copy", (await page.textContent("#msg")).includes("only copy"),
		await page.textContent("#msg"));
	await shot(page, "money-vouchers");
});
