// Care and the Customer 360's actions in the browser: a care agent opens a ticket from the queue
// (its clocks on show), replies by SMS and resolves it; finance refunds part of the order from
// the 360 and a care agent adds a note, which the timeline shows; fulfilment's board shows where
// to deliver. browser.sh made the customer, the paid order and the ticket (SPAZA_CARE_*).
"use strict";
const { ADMIN, S, check, login, shot, run, env, waitFor } = require("./lib");
const MS = env("SPAZA_CARE_MSISDN"), ORDER = env("SPAZA_CARE_ORDER"), TICKET = env("SPAZA_CARE_TICKET");

run(async b => {
	const care = await login(b, "care", { wide: true });
	await care.goto(ADMIN + "/admin/care?filter=open");
	await waitFor(care, `#queue a[href$="id=${TICKET}"]`, "care queue");
	const row = await care.textContent(`#queue tr:has(a[href$="id=${TICKET}"])`);
	check("the queue lists the ticket with its two clocks", row.includes("not delivered") && /\d{4}-\d\d-\d\d \d\d:\d\d.*\d{4}-\d\d-\d\d \d\d:\d\d/.test(row), row);
	await shot(care, "care-queue");
	await care.click(`#queue a[href$="id=${TICKET}"]`);
	await waitFor(care, "#t-messages tbody tr", "care ticket");
	check("the ticket shows the customer's message", (await care.textContent("#t-messages")).includes("still waiting " + S),
		await care.textContent("#t-messages"));
	await care.fill("#reply input[name=text]", "Your parcel goes out today " + S);
	await care.click("#reply button[type=submit]");
	await waitFor(care, "#msg.info", "care reply");
	// the ticket is read again after the reply: wait for it rather than race it
	await care.waitForFunction(() => document.getElementById("t-title").textContent.includes("(waiting)"), null, { timeout: 15000 })
		.catch(() => {});
	check("the reply is sent: the ticket waits on the customer", (await care.textContent("#t-title")).includes("(waiting)"),
		await care.textContent("#t-title"));
	check("... and the reply is in the ticket's messages", (await care.textContent("#t-messages")).includes("Your parcel goes out today " + S),
		await care.textContent("#t-messages"));
	await care.fill("#state input[name=note]", "parcel sent " + S);
	await care.click("#state button[value=resolved]");
	await care.waitForFunction(() => document.getElementById("t-title").textContent.includes("(resolved)"), null, { timeout: 15000 })
		.catch(() => {});
	check("resolve: the ticket is resolved", (await care.textContent("#t-title")).includes("(resolved)"), await care.textContent("#t-title"));
	await shot(care, "care-ticket");

	await care.goto(ADMIN + "/admin/customer?msisdn=" + encodeURIComponent(MS));
	await waitFor(care, "#timeline tbody tr", "customer 360 (care)");
	check("a care agent does not see the refund form", !(await care.isVisible("#refund")), "visible");
	await care.fill("#note input[name=text]", "rang the customer " + S);
	await care.click("#note button[type=submit]");
	await waitFor(care, "#msg.info", "note");
	await care.waitForFunction(s => document.querySelector("#timeline").textContent.includes("rang the customer " + s), S, { timeout: 15000 })
		.catch(() => {});
	check("the note is on the timeline", (await care.textContent("#timeline")).includes("rang the customer " + S), "not on the timeline");
	await care.context().close();

	const fin = await login(b, "finance", { wide: true });
	await fin.goto(ADMIN + "/admin/customer?msisdn=" + encodeURIComponent(MS));
	await waitFor(fin, "#refund:not([hidden])", "customer 360 (finance)");
	await fin.fill("#refund input[name=order]", ORDER);
	await fin.fill("#refund input[name=rand]", "1.50");
	await fin.fill("#refund input[name=reason]", "late delivery " + S);
	await fin.click("#refund button[type=submit]");
	await waitFor(fin, "#msg.info, #msg.error", "refund");
	const said = await fin.textContent("#msg");
	check("finance refunds R1.50 of the order to where it came from", said === "Refunded R1.50 to credit.", said);
	await shot(fin, "customer-360-refund");
	await fin.context().close();

	const ful = await login(b, "fulfilment", { wide: true });
	await ful.goto(ADMIN + "/admin/orders?msisdn=" + encodeURIComponent(MS));
	await waitFor(ful, "#board td.delivery", "board");
	const where = await ful.textContent("#board td.delivery");
	check("the board shows where to deliver, with the instructions", where.includes("12 Vilakazi St") && where.includes("blue gate"), where);
	const tabs = await ful.textContent("#tabs");
	check("the board has an expired tab", tabs.includes("expired ("), tabs);
	await shot(ful, "orders-delivery");
	await ful.context().close();
});
