// Headless Chromium: an admin turns on two-factor login (scans nothing: the
// page's key is read and the code computed here, RFC 6238 with HMAC-SHA1),
// keeps the recovery codes, logs out, logs in with the password and then a
// code from the "app". Screenshots of the enrolment page (desktop, phone) and
// the second step. Prints OK when all went through.
// Usage: node twofactor.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR
import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";

const [base, email, password, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };

function base32(s) {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0; const out = [];
  for (const c of s.toUpperCase().replace(/=+$/, "")) {
    value = (value << 5) | abc.indexOf(c); bits += 5;
    if (bits >= 8) { bits -= 8; out.push((value >>> bits) & 0xff); }
  }
  return Buffer.from(out);
}
function totp(secret, unixSecs) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSecs / 30)));
  const mac = createHmac("sha1", secret).update(counter).digest();
  const off = mac[mac.length - 1] & 15;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, "0");
}

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
  await page.goto(base + "/settings");
  await page.click("text=Two-factor login");
  await page.waitForURL(/\/settings\/2fa/);
  const qr = await page.$(".qr svg");
  if (!qr) fail("no QR code on the enrolment page");
  const box = await qr.boundingBox();
  if (!box || box.width < 150) fail("the QR code is too small to scan: " + JSON.stringify(box));
  await page.screenshot({ path: shots + "/2fa-enrol-desktop.png", fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: shots + "/2fa-enrol-phone.png", fullPage: true });
  await page.setViewportSize({ width: 1366, height: 900 });
  const secret = base32((await page.textContent("code.secret")).trim());
  await page.fill("input[name=password]", password);
  await page.fill("input[name=code]", totp(secret, Date.now() / 1000));
  await page.click("button:has-text('Turn on')");
  await page.waitForSelector("ul.recovery-codes");
  const codes = await page.$$eval("ul.recovery-codes code", (els) => els.map((e) => e.textContent));
  if (codes.length !== 10) fail("expected 10 recovery codes, got " + codes.length);
  await page.click("button:has-text('Log out')");
  await page.waitForURL(/\/login/);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/login\/2fa/);
  await page.screenshot({ path: shots + "/2fa-step.png" });
  // The enrolment spent this step's code; the next step's is accepted (one step of skew).
  await page.fill("input[name=code]", totp(secret, Date.now() / 1000 + 30));
  await page.click("button:has-text('Log in')");
  await page.waitForURL(/\/tickets/, { timeout: 10000 }).catch(async () => fail("the code did not log in: " + (await page.textContent("body"))));
  console.log("OK");
} finally {
  await browser.close();
}
