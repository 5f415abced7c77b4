// The shell: a wrong password says so, the owner logs in and sees every page in the menu (a
// screenshot of each), logs out, and a page then asks for the login again.
"use strict";
const { ADMIN, S, check, login, shot, run } = require("./lib");

run(async b => {
	const bad = await login(b, "owner", { password: "not-the-password" });
	await bad.waitForSelector("#msg:not([hidden])");
	check("a wrong password is refused on the login page", (await bad.textContent("#msg")).includes("wrong login or password"),
		await bad.textContent("#msg"));
	await shot(bad, "login-refused");
	await bad.context().close();

	const page = await login(b, "owner", { wide: true });
	check("the owner lands on Today", page.url().endsWith("/admin/today"), page.url());
	await page.waitForSelector("#cards .card");
	const nav = await page.$$eval("nav a", as => as.map(a => a.textContent));
	check("the owner's menu has every page", nav.join(",") === "Today,Orders,Customer 360,Till,Web phone,Catalogue,Money,Care,Segments,Campaigns,Funnel",
		nav.join(","));
	check("the menu says who is logged in", (await page.textContent("#who")) === `owner${S} (owner)`, await page.textContent("#who"));
	check("Today shows the database alarm as ok", (await page.textContent("#cards")).includes("Database") &&
		(await page.textContent("#cards")).includes("ok"), await page.textContent("#cards"));
	await shot(page, "today");
	for (const p of ["orders", "customer", "till", "phone", "catalogue", "money", "care", "segments", "campaigns", "funnel"]) {
		await page.goto(ADMIN + "/admin/" + p);
		await page.waitForSelector("nav a");
		check(`the ${p} page opens with its menu`, (await page.$$("nav a")).length === 11, "menu missing");
		await shot(page, p + "-empty");
	}
	// the same pages on a phone-sized screen: nothing wider than the screen
	const phone = await login(b, "owner");
	await phone.waitForSelector("#cards .card");
	const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
	check("Today fits a 390 px phone screen", wide <= 390, `${wide} px wide`);
	await shot(phone, "today-phone");
	await phone.context().close();

	await page.click("#logout");
	await page.waitForURL(u => u.pathname.endsWith("/admin/login"));
	check("log out returns to the login page", page.url().endsWith("/admin/login"), page.url());
	await page.goto(ADMIN + "/admin/today");
	check("after logging out, a page asks for the login again", page.url().endsWith("/admin/login"), page.url());
});
