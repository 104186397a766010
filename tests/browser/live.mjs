// Headless Chromium: the queue is open; a mail arrives over SMTP; the new
// ticket appears in the list without a reload. Prints READY when the page is
// open (the test then sends the mail), then OK <ms>.
// Usage: node live.mjs BASE_URL EMAIL PASSWORD SUBJECT SCREENSHOT_DIR
import { chromium } from "playwright-core";

const [base, email, password, subject, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 700 } });
  await page.goto(base + "/login");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/tickets/);
  if ((await page.textContent("body")).includes(subject)) fail("ticket there before the mail");
  // Give the event stream a moment to connect.
  await page.waitForTimeout(300);
  const loadedAt = await page.evaluate(() => performance.timeOrigin);
  console.log("READY");
  const start = Date.now();
  await page.waitForSelector(`text=${subject}`, { timeout: 10000 }).catch(() => fail("new ticket never appeared"));
  const ms = Date.now() - start;
  const sameDoc = await page.evaluate(() => performance.timeOrigin);
  if (sameDoc !== loadedAt) fail("the page was reloaded instead of updated");
  await page.screenshot({ path: shots + "/queue-live.png" });
  console.log("OK " + ms);
} finally {
  await browser.close();
}
