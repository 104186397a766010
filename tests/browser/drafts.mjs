// Headless Chromium: never lose a reply. Text typed in the reply box is
// saved ("Draft saved"); when the session ends the page says so at once and
// keeps the text; signing in again returns to the ticket with the text.
// Usage: node drafts.mjs BASE EMAIL PASSWORD REF SHOTS
import { launch } from "./common.mjs";

const [base, email, password, ref, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();
const login = async (page) => {
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
};
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(base + "/login");
  await login(page);
  await page.waitForURL(/\/tickets/);
  await page.goto(base + "/tickets/" + ref);
  const words = "Please hold the power button for ten seconds, then";
  await page.fill("#replytext", words);
  await page.waitForFunction(() => /^Draft saved/.test(document.getElementById("draftstate").textContent), null, { timeout: 10000 });

  // The session ends (its cookie is gone); more text is typed.
  await context.clearCookies();
  await page.type("#replytext", " plug it back in.");
  const banner = page.locator("#session-ended");
  await banner.waitFor({ timeout: 10000 });
  if (!/session has ended/.test(await banner.textContent())) fail("the banner says " + (await banner.textContent()));
  const full = words + " plug it back in.";
  if ((await page.inputValue("#replytext")) !== full) fail("the text changed when the session ended");
  await page.screenshot({ path: shots + "/draft-session-ended.png" });

  // Sign in again from the banner: back on the ticket, with the text.
  await banner.locator("a").click();
  await page.waitForURL(/\/login/);
  await login(page);
  await page.waitForURL(new RegExp("/tickets/" + ref));
  if ((await page.inputValue("#replytext")) !== full) fail("after signing in the box holds " + JSON.stringify(await page.inputValue("#replytext")));
  const restored = await page.textContent("#draftstate");
  if (!/restored from this browser \(reply\)/.test(restored) || (await page.isChecked("#internal"))) fail("restored as: " + restored);
  // Sent: the draft is gone from the server and from the browser.
  await page.click("#sendbtn");
  await page.waitForURL(/done=reply/);
  await page.reload();
  if ((await page.inputValue("#replytext")) !== "") fail("the sent text came back");
  console.log("OK drafts");
} finally {
  await browser.close();
}
