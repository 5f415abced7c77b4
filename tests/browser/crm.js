// The CRM pages (doc/back-office.md): the owner defines a rule segment and sees its count, a bad
// rule shows the parser's reason; creates a campaign, previews it (audience and each language
// linted) and starts it; opens the funnel and its CSV. A care agent reads the pages but is not
// offered the forms, and the server refuses the change anyway.
"use strict";
const { ADMIN, S, check, env, login, shot, run, waitFor } = require("./lib");

// names of this run (a segment's and a campaign's are lower-case letters and digits)
const N = S.replace(/\D/g, "").slice(-6);

run(async b => {
	const own = await login(b, "owner");
	await own.goto(ADMIN + "/admin/segments");
	await waitFor(own, "#named tbody tr[data-segment=top]", "segments");
	check("the named segments are listed with their counts", (await own.$$("#named tbody tr")).length === 6,
		String((await own.$$("#named tbody tr")).length));
	const seg = "br-zu" + N;
	await own.fill("#define input[name=name]", seg);
	await own.fill("#define input[name=rule]", "lang klingon");
	await own.click("#define button[type=submit]");
	await waitFor(own, "#msg.error:not([hidden])", "bad rule");
	const bad = await own.textContent("#msg");
	check("a bad rule shows the parser's reason", bad.includes("lang is en, zu or af"), bad);
	await own.fill("#define input[name=rule]", "opted-in and lang zu");
	await own.click("#define button[type=submit]");
	await waitFor(own, `#rules tbody tr[data-segment="${seg}"]`, "defined segment");
	const count = await own.textContent(`#rules tbody tr[data-segment="${seg}"] td.count`);
	const said = await own.textContent("#msg");
	check("the owner defines a segment and sees its live count", /^\d+ \(en \d+, zu \d+, af \d+\)$/.test(count) &&
		said.includes("lang zu and opted-in") && said.includes(count.split(" ")[0] + " members"), count + " / " + said);
	await own.click(`#rules tbody tr[data-segment="${seg}"] button`);
	await waitFor(own, "#members-box:not([hidden])", "members");
	check("... and its first members", (await own.textContent("#members-rule")) === "lang zu and opted-in",
		await own.textContent("#members-rule"));
	await shot(own, "crm-segments");

	const camp = "bread" + N;
	await own.goto(ADMIN + "/admin/campaigns");
	await waitFor(own, "#create-box:not([hidden])", "create form");
	await own.waitForSelector(`#create select[name=segment] option[value="${seg}"]`, { state: "attached" });
	await own.fill("#create input[name=name]", camp);
	await own.fill("#create input[name=text_en]", "Hi {name}, fresh bread R15: {offer}");
	await own.fill("#create input[name=text_zu]", "Sawubona {name}, isinkwa R15: {offer}");
	await own.fill("#create input[name=offer]", "2 for R28");
	await own.selectOption("#create select[name=segment]", seg);
	await own.fill("#create input[name=at]", "2999-01-01 09:00");
	await own.click("#create button[type=submit]");
	await waitFor(own, `#campaigns tbody tr[data-campaign="${camp}"]`, "created campaign");
	await waitFor(own, "#preview:not([hidden])", "preview");
	check("the owner creates a campaign: a draft in the list",
		(await own.textContent(`#campaigns tbody tr[data-campaign="${camp}"] td:nth-child(2)`)) === "draft",
		await own.textContent(`#campaigns tbody tr[data-campaign="${camp}"]`));
	const fits = await own.$$eval("#pv-texts tbody tr td:nth-child(2)", tds => tds.map(t => t.textContent));
	check("... and previews it: each language linted and fitting", fits.length === 3 && fits.every(f => f.startsWith("ok: ")),
		fits.join(" | "));
	const af = await own.textContent("#pv-texts tbody tr[data-lang=af] td.lint");
	check("... the worst case with the footer (af gets the English text)", af.startsWith("Hi WWWW") &&
		af.endsWith("Antwoord STOP om uit te teken"), af);
	check("... the audience counted now", /^\d+$/.test(await own.textContent("#pv-total")), await own.textContent("#pv-total"));
	await shot(own, "crm-campaign-preview");
	await own.click(`#campaigns tbody tr[data-campaign="${camp}"] button:text("Start")`);
	await own.waitForFunction(c => { const r = document.querySelector(`#campaigns tbody tr[data-campaign="${c}"] td:nth-child(2)`);
		return r && r.textContent === "running"; }, camp, { timeout: 15000 });
	check("... starts it", true, "");

	// a dialogue that ends (help, call us), so the funnel has this run's session in it
	const USSD = env("SPAZA_URL"), sid = "it-crm-" + N + "-" + Date.now(), phone = "0827" + N.padStart(6, "0");
	for (const text of ["", "5", "5*3"])
		await fetch(USSD + "/ussd/at", { method: "POST", body: new URLSearchParams({ sessionId: sid,
			serviceCode: "*120*777#", phoneNumber: phone, text }) });
	await own.goto(ADMIN + "/admin/funnel");
	await waitFor(own, "#funnel tbody tr", "funnel");
	// the session is written when it ends, a moment later: Show again until its screens are in
	for (let i = 0; i < 30 && !(await own.$("#funnel tbody tr td:text-is('main')")); i++) {
		await own.waitForTimeout(500);
		await own.click("#since button[type=submit]");
		await own.waitForTimeout(200);
	}
	check("the funnel shows the screens of the sessions since the day", !!(await own.$("#funnel tbody tr td:text-is('main')")),
		await own.textContent("#funnel tbody"));
	const same = await own.evaluate(async () => {
		const h = document.getElementById("csv").getAttribute("href");
		const rows = (await (await fetch(h.replace("&csv=1", ""))).json()).rows;
		const lines = (await (await fetch(h)).text()).trim().split("\n").slice(1);
		const shown = [...document.querySelectorAll("#funnel tbody tr")].map(tr =>
			[...tr.children].slice(0, 13).map(td => td.textContent).join(","));
		return lines.length === rows.length && lines.every((l, i) => l.split(",").slice(0, 13).join(",") === shown[i]);
	});
	check("... the table's rows are the CSV's", same, "they differ");
	const href = await own.getAttribute("#csv", "href");
	check("the funnel opens with its CSV download, by every dimension",
		/^\/admin\/api\/funnel\?since=\d{4}-\d\d-\d\d&by=front%2Clang%2Csegment%2Cversion&csv=1$/.test(href), href);
	const csv = await own.evaluate(async h => (await fetch(h)).text(), href);
	check("... the CSV has spazactl's header", csv.startsWith("screen,front,lang,segment,version,entries,end,timeout,abandon,error,back,ordered,paid,s_per_hop\n"),
		csv.slice(0, 80));
	// the menu version left out: one row per screen, front, language and segment, its version '*'
	await own.uncheck("#by input[value=version]");
	await own.click("#since button[type=submit]");
	await own.waitForFunction(() => /by=front%2Clang%2Csegment&/.test(document.getElementById("csv").getAttribute("href")));
	await own.waitForFunction(() => [...document.querySelectorAll("#funnel tbody tr")].every(tr => tr.children[4].textContent === "*"));
	check("unticking the menu version shows it as * (spazactl funnel --by front,lang,segment)", true, "");
	const wide = await own.evaluate(() => document.documentElement.scrollWidth);
	check("the funnel fits a 390 px phone screen (its table scrolls)", wide <= 390, `${wide} px wide`);
	await shot(own, "crm-funnel");
	await own.context().close();

	const care = await login(b, "care");
	await care.goto(ADMIN + "/admin/campaigns");
	await waitFor(care, `#campaigns tbody tr[data-campaign="${camp}"]`, "care's campaigns");
	check("a care agent sees the campaigns but not the create form", await care.isHidden("#create-box"), "the form shows");
	check("... nor a Start, Pause or Resume button",
		(await care.$$(`#campaigns tbody tr[data-campaign="${camp}"] button`)).length === 1, "buttons other than Preview");
	const refused = await care.evaluate(async () => {
		const me = await (await fetch("/admin/api/me")).json();
		return (await fetch("/admin/api/campaigns/create", { method: "POST", headers: { "Content-Type": "application/json",
			"X-CSRF-Token": me.csrf }, body: '{"name": "nope", "text_en": "Hi", "rule": "lang zu", "at": "now"}' })).status;
	});
	check("... and the server refuses a care agent's create (403)", refused === 403, "status " + refused);
	await care.goto(ADMIN + "/admin/segments");
	await waitFor(care, "#named tbody tr", "care's segments");
	check("a care agent sees the segments but not the define form", await care.isHidden("#define"), "the form shows");
	await shot(care, "crm-segments-care");
	await care.context().close();
});
