// What the browser tests share (tests/integration/browser.sh runs each tests/browser/*.js with
// node): Debian's chromium through playwright-core, a login, screenshots, PASS/FAIL lines.
"use strict";
const { chromium } = require("playwright-core");
const path = require("path");

const env = name => {
	if (!process.env[name]) throw new Error("browser.sh sets " + name);
	return process.env[name];
};
const ADMIN = env("SPAZA_ADMIN_URL");
const SHOTS = env("SPAZA_SCREENSHOTS");
const PW = env("SPAZA_STAFF_PASSWORD");
const S = env("SPAZA_STAFF_SUFFIX");
const T = path.basename(process.argv[1], ".js");
let failed = 0;

function check(what, ok, why) {
	if (ok) console.log(`PASS: browser ${T}: ${what}`);
	else { failed++; console.log(`FAIL: browser ${T}: ${what}: ${why}`); }
}

async function browser() {
	// as root (the CI container) chromium's sandbox cannot start: it is the test's own browser
	// on loopback pages, so it goes without
	return chromium.launch({ executablePath: process.env.SPAZA_CHROMIUM || "/usr/bin/chromium", headless: true,
		args: process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [] });
}

// A fresh context (its own cookies) on a phone-sized screen unless wide, logged in as role+S.
async function login(b, role, opts = {}) {
	const ctx = await b.newContext({ viewport: opts.wide ? { width: 1280, height: 900 } : { width: 390, height: 844 } });
	const page = await ctx.newPage();
	page.on("dialog", d => d.accept());	// the pages confirm each change
	await page.goto(ADMIN + "/admin/login");
	await page.fill("input[name=login]", role + S);
	await page.fill("input[name=password]", opts.password || PW);
	await page.click("button[type=submit]");
	if (!opts.password)
		await page.waitForURL(u => !u.pathname.endsWith("/admin/login"), { timeout: 15000 });
	return page;
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });
}

// Waits for a selector; when it does not come, the page's own message (#msg) is the reason.
async function waitFor(page, selector, name) {
	try { await page.waitForSelector(selector, { timeout: 15000 }); }
	catch (e) {
		const msg = await page.evaluate(() => { const m = document.getElementById("msg"); return m && !m.hidden ? m.textContent : ""; });
		await shot(page, "failed-" + name);
		throw new Error(`${name}: ${selector} did not appear` + (msg ? `; the page says "${msg}"` : ""));
	}
}

// Runs the test's body; a throw is one FAIL line, never a silent stop.
function run(body) {
	(async () => {
		const b = await browser();
		try { await body(b); }
		catch (e) { check("runs to the end", false, String(e.message || e).split("\n")[0]); }
		finally { await b.close(); }
		process.exit(failed ? 1 : 0);
	})().catch(e => { console.log(`FAIL: browser ${T}: the browser did not start: ${e.message}`); process.exit(1); });
}

module.exports = { ADMIN, PW, S, check, login, shot, run, env, waitFor };
