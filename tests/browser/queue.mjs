// Headless Chromium: a queue that shows what needs me (issue 18 part 3) at
// 1366×768 — at least 18 rows fit the first screen, unread rows are marked
// until opened, the bulk bar appears only while rows are ticked and says
// what is missing before it posts, a column choice is remembered for the
// agent (not only in the link), and a 390 px phone does not scroll sideways.
// Usage: node queue.mjs BASE EMAIL PASSWORD SHOTS
import { launch, signIn } from "./common.mjs";

const [base, email, password, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await signIn(page, base, email, password);

  // The first screen: rows, not the bulk bar.
  if (await page.locator("form.bulkbar").isVisible()) fail("the bulk bar shows with nothing ticked");
  const fit = await page.locator("table.tickets tbody tr").evaluateAll((rs) => rs.filter((r) => r.getBoundingClientRect().bottom <= window.innerHeight).length);
  await page.screenshot({ path: shots + "/queue.png" });
  if (fit < 18) fail("only " + fit + " rows fit 1366×768");
  const unread = await page.locator("table.tickets tbody tr.unread").count();
  if (unread !== 25) fail(unread + " unread rows, not 25");
  const preview = await page.locator("tbody tr td.subject .preview").first().textContent();
  if (!/^Question \d+: the printer/.test(preview)) fail("the preview reads " + preview);
  await page.screenshot({ path: shots + "/queue.png" });

  // Ticking a row brings the bar; posting without an action is stopped.
  const box = page.locator("tbody tr input[name=id]").first();
  await box.check();
  if (!(await page.locator("form.bulkbar").isVisible())) fail("the bulk bar stays hidden with a row ticked");
  await page.click("form.bulkbar button[type=submit]");
  await page.waitForTimeout(100);
  if (!page.url().endsWith("/tickets")) fail("an empty bulk action posted: " + page.url());
  const msg = (await page.locator("form.bulkbar .bulk-msg").textContent()).trim();
  if (msg !== "Choose what to do with them.") fail("the bulk bar says " + JSON.stringify(msg));
  await page.selectOption("form.bulkbar select[name=action]", "tag");
  await page.click("form.bulkbar button[type=submit]");
  await page.waitForTimeout(100);
  if ((await page.locator("form.bulkbar .bulk-msg").textContent()).trim() !== "Type the tag to add or remove.") fail("no word about the missing tag");
  await box.uncheck();
  if (await page.locator("form.bulkbar").isVisible()) fail("the bulk bar stays after unticking");

  // Opening a ticket reads it.
  const first = page.locator("tbody tr.unread td.ref a").first();
  const ref = (await first.textContent()).trim();
  await first.click();
  await page.waitForURL(new RegExp(ref));
  await page.goto(base + "/tickets");
  const row = page.locator(`tbody tr:has(td.ref a:text-is("${ref}"))`);
  if (await row.evaluate((r) => r.classList.contains("unread"))) fail(ref + " is still unread after opening it");

  // A column choice is remembered for the agent.
  await page.click("details.colpick summary");
  await Promise.all([page.waitForURL(/col=tags/), page.check("details.colpick input[value=tags]")]);
  await page.goto(base + "/tickets");
  const heads = await page.locator("table.tickets thead th").allTextContents();
  if (!heads.map((h) => h.trim().toLowerCase()).includes("tags")) fail("Tags is forgotten: " + heads.join(","));

  // A phone: no sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 390) fail("the queue is " + wide + " px wide on a phone");
  await page.screenshot({ path: shots + "/queue-phone.png" });
  // The main menu and the views fold away on a phone and open with a tap.
  if (await page.locator("nav.mainnav").isVisible()) fail("the main menu is open on a phone");
  await page.click("button.menu-toggle");
  if (!(await page.locator("nav.mainnav a[href='/reports']").isVisible())) fail("the menu button does not open the menu");
  if ((await page.locator("button.menu-toggle").getAttribute("aria-expanded")) !== "true") fail("the menu button does not say it is open");
  await page.screenshot({ path: shots + "/queue-phone-menu.png" });
  await page.click("button.menu-toggle");
  if (await page.locator("aside.sidebar a[href='/tickets?assignee=me']").isVisible()) fail("the views are open on a phone");
  if (await page.locator("form.filters").isVisible()) fail("the filters are open on a phone");
  await page.click("aside.sidebar summary");
  await page.click("aside.sidebar a[href='/tickets?assignee=me']");
  await page.waitForURL(/assignee=me/);
  if ((await page.locator("h1").textContent()).trim() !== "My open tickets") fail("the phone's view link went elsewhere");
  if (errors.length) fail("console errors: " + errors.join(" | "));
  console.log("OK queue");
} finally {
  await browser.close();
}
