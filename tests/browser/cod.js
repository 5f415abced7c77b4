// Cash on delivery confirmed by the people who hold the cash (sql/019_cod_confirm.sql): a
// retailer types the order number on the till page, sees the amount due, confirms the cash
// taken once (a second click is the same payment) and sees it in what the shop owes; on the
// orders board fulfilment gets "Cash received" for a courier's cash, care does not.
"use strict";
const { ADMIN, check, login, shot, run, env, waitFor } = require("./lib");
const ORDER = env("SPAZA_COD_ORDER");
const BOARD_ORDER = env("SPAZA_COD_BOARD_ORDER");
const DUE = env("SPAZA_COD_DUE");
const MSISDN = env("SPAZA_COD_MSISDN");

run(async b => {
	// the retailer at the till: the order number, the amount, the cash
	const till = await login(b, "tillcod");
	await till.waitForFunction(() => document.getElementById("owed").textContent !== "");
	check("the retailer owes nothing yet today", (await till.textContent("#owed")) === "R0.00", await till.textContent("#owed"));
	await till.fill("#cod-order", "#" + ORDER);
	await till.press("#cod-order", "Enter");
	await waitFor(till, "#cod:not([hidden])", "cod-1");
	check("the till page shows the cash-on-delivery order's amount due", (await till.textContent("#c-amount")) === DUE,
		await till.textContent("#c-amount"));
	check("... awaiting payment", (await till.textContent("#c-status")) === "awaiting payment", await till.textContent("#c-status"));
	check("... with the button to confirm the cash", await till.isVisible("#cod-pay"), "hidden");
	await till.click("#cod-pay");
	await till.waitForFunction(() => document.getElementById("c-status").textContent === "paid");
	check("the retailer confirms the cash taken: the order is paid", (await till.textContent("#c-by")).includes("cash taken here"),
		await till.textContent("#c-by"));
	check("... and there is nothing more to confirm", await till.isHidden("#cod-pay"), "the button shows");
	await till.waitForFunction(d => document.getElementById("owed").textContent === d, DUE);
	check("... the cash is in what the shop owes", (await till.textContent("#owed")) === DUE, await till.textContent("#owed"));
	await shot(till, "till-cod");
	const again = await till.evaluate(async ([order, cents, csrf]) => {
		const r = await fetch("/admin/api/till/cod", { method: "POST", headers: { "Content-Type": "application/json",
			"X-CSRF-Token": csrf }, body: JSON.stringify({ order: Number(order), amount_cents: cents }) });
		return r.status + " " + (await r.json()).outcome;
	}, [ORDER, Number(DUE.replace(/[^0-9]/g, "")), await till.evaluate(() => office.me.csrf)]);
	check("a second confirmation is the same payment", again === "200 paid", again);
	await till.fill("#cod-order", String(Number(ORDER) + 1000000000));
	await till.press("#cod-order", "Enter");
	await waitFor(till, "#msg:not([hidden])", "cod-2");
	check("an order nobody placed is refused clearly", (await till.textContent("#msg")) === "no order with this number",
		await till.textContent("#msg"));
	await till.context().close();

	// care sees the board but not the action
	const care = await login(b, "care", { wide: true });
	await care.goto(ADMIN + "/admin/orders?msisdn=" + encodeURIComponent(MSISDN));
	await waitFor(care, `input[name=id][value="${BOARD_ORDER}"]`, "cod-3");
	check("a care agent is not offered Cash received", (await care.$$("button.cash")).length === 0, "the button shows");
	await care.context().close();

	// fulfilment: a courier hands in the cash of the other order
	const ful = await login(b, "fulfilment", { wide: true });
	await ful.goto(ADMIN + "/admin/orders?msisdn=" + encodeURIComponent(MSISDN));
	await waitFor(ful, `input[name=id][value="${BOARD_ORDER}"]`, "cod-4");
	const row = ful.locator("#board tbody tr", { has: ful.locator(`input[value="${BOARD_ORDER}"]`) });
	check("fulfilment is offered Cash received on the COD order awaiting payment", (await row.locator("button.cash").count()) === 1,
		"no button");
	await shot(ful, "orders-cod");
	await row.locator("button.cash").click();
	await waitFor(ful, "#msg:not([hidden])", "cod-5");
	check("fulfilment confirms the courier's cash", (await ful.textContent("#msg")).startsWith("Order #" + BOARD_ORDER + " paid"),
		await ful.textContent("#msg"));
	await ful.waitForFunction(o => ![...document.querySelectorAll("#board tbody tr")].some(tr =>
		tr.querySelector(`input[value="${o}"]`) && tr.querySelector("button.cash")), BOARD_ORDER);
	check("... the order is paid: no more Cash received on it", true, "");
	await ful.context().close();
});
