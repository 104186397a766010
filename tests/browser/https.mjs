// Headless Chromium over the desk's built-in HTTPS with its self-signed
// certificate trusted the way the start-up line says (by the public key's
// SHA-256, --ignore-certificate-errors-spki-list), and certificate errors
// NOT ignored otherwise: plain HTTP redirects to HTTPS, login works over it,
// the page is a secure context, HSTS is sent. Then the same browser without
// the pin must refuse the certificate. Prints OK <TLS protocol>.
// Usage: node https.mjs PLAIN_BASE SPKI EMAIL PASSWORD SCREENSHOT_DIR
import { chromium } from "playwright-core";

const [plainBase, spki, email, password, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const exe = process.env.CHROMIUM || "/usr/bin/chromium";

const browser = await chromium.launch({ executablePath: exe, args: [...args, "--ignore-certificate-errors-spki-list=" + spki] });
let protocol = "";
try {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, ignoreHTTPSErrors: false });
  const page = await ctx.newPage();
  const res = await page.goto(plainBase + "/login");
  if (!page.url().startsWith("https://")) fail("plain HTTP did not lead to HTTPS: " + page.url());
  const sec = await res.securityDetails();
  if (!sec) fail("no TLS details for " + page.url());
  protocol = sec.protocol;
  const hsts = (await res.allHeaders())["strict-transport-security"];
  if (!hsts || !hsts.includes("max-age=")) fail("no HSTS header over HTTPS");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/tickets/, { timeout: 10000 }).catch(() => fail("login over HTTPS did not reach the queue: " + page.url()));
  if (!page.url().startsWith("https://")) fail("left HTTPS after login: " + page.url());
  if (!(await page.evaluate(() => window.isSecureContext))) fail("the queue is not a secure context");
  const cookies = await ctx.cookies();
  if (!cookies.some((c) => c.secure)) fail("the session cookie is not Secure: " + JSON.stringify(cookies));
  await page.screenshot({ path: shots + "/https-queue-desktop.png" });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: shots + "/https-queue-phone.png" });
} finally {
  await browser.close();
}

// Without the pin, the self-signed certificate is refused: the trust above
// came from the fingerprint, not from ignoring errors.
const strict = await chromium.launch({ executablePath: exe, args });
try {
  const page = await strict.newPage();
  let refused = false;
  try {
    await page.goto(plainBase + "/login", { timeout: 10000 });
  } catch (e) {
    refused = /ERR_CERT/.test(String(e));
  }
  if (!refused) fail("Chromium accepted the self-signed certificate without its fingerprint");
} finally {
  await strict.close();
}
console.log("OK " + protocol);
