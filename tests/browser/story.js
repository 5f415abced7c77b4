// One whole story, as the people in it do it: a customer orders by USSD and asks for a slip;
// the care agent finds the order on the customer's page; the retailer confirms the cash on the
// till page; finance sees what the retailer owes; fulfilment ships it on the board; the
// customer's "shipped" SMS is in the number's inbox on the web phone.
"use strict";
const { ADMIN, check, login, shot, run, env, waitFor } = require("./lib");
const FRONT = env("SPAZA_URL");
const PHONE = env("SPAZA_STORY_PHONE");
const SHOP = env("SPAZA_RETAILER_NAME");

async function ussd(session, text) {
	const body = new URLSearchParams({ sessionId: session, serviceCode: "*120*777#", phoneNumber: PHONE, text });
	const r = await fetch(FRONT + "/ussd/at", { method: "POST", body });
	return r.text();
}

run(async b => {
	// the customer: 2 x Coke 2L, then pay by barcode slip
	const sid = "browser-story-" + process.pid;
	await ussd(sid, "");
	const placed = await ussd(sid, "1*2*1*1*2*1");
	const order = (placed.match(/Order #(\d+) placed/) || [])[1];
	check("the customer orders by USSD", !!order, placed);
	const paid = await ussd(sid + "-pay", "3*" + order + "*3");
	const slip = (paid.match(/slip (9[\d ]{17})/) || [])[1];
	check("... and gets a slip to pay at a till", !!slip, paid);

	// care: the customer's page shows the order
	const care = await login(b, "care", { wide: true });
	await care.goto(ADMIN + "/admin/customer");
	await care.fill("#msisdn", PHONE);
	await care.press("#msisdn", "Enter");
	await waitFor(care, "#timeline:not([hidden]) tbody tr", "story-1");
	const tl = await care.textContent("#timeline");
	check("the care agent sees the order on the customer's timeline", tl.includes("order #" + order), tl.slice(0, 300));
	check("... with the USSD session that placed it", /\*120\*777# completed.*pay_order/.test(tl), tl.slice(0, 300));
	check("a care agent is not offered the credit limit (finance's)", await care.isHidden("#limit"), "the form shows");
	await shot(care, "customer-360");
	await care.context().close();

	// the retailer: the slip as printed (grouped), Enter, confirm the cash
	const till = await login(b, "till");
	await till.fill("#ref", slip);
	await till.press("#ref", "Enter");
	await waitFor(till, "#slip:not([hidden])", "story-2");
	check("the till page shows the amount due", (await till.textContent("#s-amount")) === "R55.98", await till.textContent("#s-amount"));
	check("... and the slip is open", (await till.textContent("#s-status")) === "open", await till.textContent("#s-status"));
	await shot(till, "till-slip");
	await till.click("#pay");
	await till.waitForFunction(() => document.getElementById("s-status").textContent === "paid");
	check("the retailer confirms the cash: the slip is paid", true, "");
	await till.waitForFunction(() => document.getElementById("takings").textContent === "R55.98");
	check("today's takings show it", (await till.textContent("#takings")) === "R55.98", await till.textContent("#takings"));
	await shot(till, "till-paid");
	const receipt = await till.evaluate(async ref => {
		const r = await fetch("/admin/api/till/receipt?format=pdf&ref=" + ref);
		const b = new Uint8Array(await r.arrayBuffer());
		return r.status + " " + r.headers.get("content-type") + " " + String.fromCharCode(...b.slice(0, 5));
	}, slip.replace(/ /g, ""));
	check("the receipt is a PDF to print", receipt === "200 application/pdf %PDF-", receipt);
	// a second confirmation is the same payment, never a second one
	const again = await till.evaluate(async ([ref, csrf]) => {
		const r = await fetch("/admin/api/till/pay", { method: "POST", headers: { "Content-Type": "application/json",
			"X-CSRF-Token": csrf }, body: JSON.stringify({ ref, amount_cents: 5598 }) });
		return r.status + " " + (await r.json()).outcome;
	}, [slip.replace(/ /g, ""), await till.evaluate(() => office.me.csrf)]);
	check("confirming again answers the same payment", again === "200 paid", again);
	await till.reload();
	await till.waitForFunction(() => document.getElementById("takings").textContent !== "");
	check("... and takes nothing twice", (await till.textContent("#takings")) === "R55.98", await till.textContent("#takings"));
	await till.context().close();

	// finance: the settlement
	const fin = await login(b, "finance", { wide: true });
	await fin.goto(ADMIN + "/admin/money");
	await waitFor(fin, "#settlement tbody tr", "story-3");
	const st = await fin.textContent("#settlement");
	check("finance sees what the retailer owes the shop", st.includes(SHOP) && st.includes("R55.98"), st.slice(0, 300));
	await fin.waitForSelector("#retailers tbody tr");
	const keys = await fin.textContent("#retailers");
	check("finance sees the retailer's till key, active", keys.includes(SHOP) && keys.includes("active"), keys.slice(0, 300));
	await fin.click("#check");
	await fin.waitForFunction(() => /holds|violation/.test(document.getElementById("ledger").textContent));
	check("the ledger check from the page: every invariant holds", (await fin.textContent("#ledger")) === "every invariant holds",
		await fin.textContent("#ledger"));
	await shot(fin, "money-settlement");
	await fin.context().close();

	// fulfilment: the board, filtered by the customer's number, ships the order
	const ful = await login(b, "fulfilment", { wide: true });
	await ful.goto(ADMIN + "/admin/orders?status=paid&msisdn=" + encodeURIComponent(PHONE));
	await waitFor(ful, `input[name=id][value="${order}"]`, "story-4");
	await shot(ful, "orders-board");
	await ful.check(`input[name=id][value="${order}"]`);
	await ful.selectOption("#bulk select[name=status]", "shipped");
	await ful.click("#bulk button[type=submit]");
	await waitFor(ful, "#msg:not([hidden])", "story-5");
	check("fulfilment ships the order from the board", (await ful.textContent("#msg")).startsWith("1 changed to shipped"),
		await ful.textContent("#msg"));
	await ful.context().close();

	// the customer's SMS, on the web phone's inbox for that number
	const owner = await login(b, "owner", { wide: true });
	await owner.goto(ADMIN + "/admin/phone");
	await owner.fill("#number", PHONE);
	await owner.click("#setup button[type=submit]");
	await owner.waitForFunction(o => document.getElementById("inbox").textContent.includes("order #" + o + " shipped"), order,
		{ timeout: 15000 });
	check("the customer's shipped SMS is in the number's inbox", true, "");
	await shot(owner, "phone-inbox");
	await owner.context().close();
	console.log("ORDER " + order);
});
