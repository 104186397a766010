// Headless Chromium: search from the top bar with "/", see ranked results with
// highlighted snippets, see a bad query explained, select rows with the
// keyboard (j, x) and run a bulk action to the end, then the ticket page's
// presence, subject edit and shortcut help. Screenshots go to SCREENSHOT_DIR.
// Usage: node search.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR
import { chromium } from "playwright-core";

const [base, email, password, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
  await page.goto(base + "/login");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/tickets/);

  // "/" focuses the search box; free text plus a token.
  await page.keyboard.press("/");
  await page.keyboard.type("printer status:open");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/search\?q=/);
  const count = await page.textContent(".result-count");
  if (!/2 matching tickets/.test(count)) fail("expected 2 results, got: " + count);
  const snip = await page.$$eval(".snippet b", (bs) => bs.map((b) => b.textContent.toLowerCase()));
  if (!snip.includes("printer")) fail("no highlighted snippet: " + JSON.stringify(snip));
  await page.screenshot({ path: shots + "/search.png", fullPage: true });

  // A mistake is explained, pointing at the token.
  await page.fill("#q", "printer staus:open");
  await page.press("#q", "Enter");
  await page.waitForSelector(".badquery mark");
  if ((await page.textContent(".badquery mark")) !== "staus:open") fail("bad token not marked");
  await page.screenshot({ path: shots + "/search-error.png" });

  // Keyboard selection and a bulk action on the results.
  await page.fill("#q", "tag:printers");
  await page.press("#q", "Enter");
  await page.waitForSelector("tr[data-href]");
  await page.locator("#q").blur();
  await page.keyboard.press("j");
  await page.keyboard.press("x");
  await page.keyboard.press("j");
  await page.keyboard.press("x");
  const ticked = await page.$$eval("input[name=id]:checked", (b) => b.length);
  if (ticked !== 2) fail("x should tick 2 rows, ticked " + ticked);
  await page.selectOption(".bulkbar select[name=action]", "priority:urgent");
  await page.screenshot({ path: shots + "/bulk-select.png" });
  await page.click(".bulkbar button[type=submit]");
  // The job returns to the search it came from and says how it went.
  await page.waitForURL(/\/search\?q=tag%3Aprinters.*bulk=\d+/, { timeout: 10000 }).catch(() => fail("the job did not return to the list: " + page.url()));
  const state = await page.textContent(".notice.ok");
  if (!/2 of 2 tickets changed/.test(state)) fail("the list says: " + state);
  await page.screenshot({ path: shots + "/bulk-done.png" });

  // Ticket page: "?" help, "e" subject edit, presence of a second agent.
  await page.goto(base + "/search?q=" + encodeURIComponent("tag:printers"));
  await page.click("tr[data-href] td.ref a");
  await page.waitForURL(/\/tickets\/TKT-/);
  await page.keyboard.press("?");
  await page.waitForSelector("#kbdhelp");
  if (!(await page.textContent("#kbdhelp")).includes("Select / unselect")) fail("help lacks bulk key");
  await page.keyboard.press("Escape");
  await page.keyboard.press("e");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.name);
  if (focused !== "subject") fail("e should focus the subject, focused " + focused);
  const other = await browser.newPage();
  await other.goto(base + "/login");
  await other.fill("input[name=email]", process.env.OTHER_EMAIL);
  await other.fill("input[name=password]", process.env.OTHER_PASSWORD);
  await other.click("button[type=submit]");
  await other.waitForURL(/\/tickets/);
  await other.goto(page.url());
  await other.fill("#replytext", "I am on it");
  await page.waitForSelector("#presence.on", { timeout: 8000 }).catch(() => fail("presence never shown"));
  await page.waitForFunction(() => document.getElementById("presence").textContent.includes("writing a reply"), null, { timeout: 8000 }).catch(() => fail("writing state not shown"));
  await page.screenshot({ path: shots + "/ticket-presence.png" });
  console.log("OK");
} finally {
  await browser.close();
}
