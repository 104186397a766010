// Headless Chromium: a ticket that came by mail — sender, recipients,
// attachments with an image preview, formatted HTML in its sandbox with its
// inline (cid:) picture — and the
// Junk list. Usage: node mail.mjs BASE_URL EMAIL PASSWORD TICKET_REF SCREENSHOT_DIR
import { chromium } from "playwright-core";

const [base, email, password, ref, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(base + "/login");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/tickets/);
  await page.goto(base + "/tickets/" + ref);
  const meta = await page.textContent(".mailmeta");
  if (!meta.includes("From") || !meta.includes("@")) fail("sender not shown: " + meta);
  const img = page.locator(".attachments img").first();
  await img.waitFor();
  const w = await img.evaluate((el) => el.naturalWidth);
  if (!(w > 0)) fail("image preview did not load");
  await page.click(".htmlview summary");
  const frame = page.frameLocator(".htmlview iframe");
  await frame.locator("body").waitFor();
  const html = await frame.locator("body").textContent();
  if (!html.includes("invoice")) fail("formatted HTML not shown: " + html);
  // The picture the message shows inline (cid:) is there, inside the sandbox.
  const inline = frame.locator("img[alt='the charge']");
  await inline.waitFor();
  const loaded = await inline.evaluate((el) => el.complete && el.naturalWidth > 0);
  if (!loaded) fail("the inline image did not load in the formatted view");
  const scripted = await frame.locator("script").count();
  if (scripted !== 0) fail("script survived sanitizing");
  await page.screenshot({ path: shots + "/mail-ticket.png", fullPage: true });
  await page.goto(base + "/junk");
  await page.screenshot({ path: shots + "/junk.png", fullPage: true });
  console.log("OK mail");
} finally {
  await browser.close();
}
