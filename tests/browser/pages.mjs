// Headless Chromium over every page an agent, an admin and a signed-out
// visitor can open (issue 18 parts 6 and 10): at 1366×768 and at 390×844
// each page loads, axe-core finds no serious or critical WCAG 2.2 AA
// violation, the phone does not scroll sideways, and a screenshot of each
// size is kept.
// Usage: node pages.mjs BASE EMAIL PASSWORD REF PORTAL_PATH RATING_PATH SHOTS
import { agentPages, helpPages, checkPage, launch, signIn } from "./common.mjs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const [base, email, password, ref, portal, rating, shots] = process.argv.slice(2);
const problems = [];
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();

// axe-core is injected past the desk's Content-Security-Policy (the desk
// itself allows no inline script).
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, bypassCSP: true });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

const check = (name) => checkPage(page, name, shots, problems, axePath);

async function visit(name, path, expectStatus = 200) {
  const res = await page.goto(base + path);
  if (!res || res.status() !== expectStatus) fail(`${path} answered ${res && res.status()}, not ${expectStatus}`);
  await check(name);
}

try {
  await visit("login", "/login");
  // The customer's page from the link in their mail (no agent signed in).
  await visit("portal", portal);
  // The satisfaction rating page from the resolved mail's link.
  await visit("rating", rating);
  await visit("help", "/help");
  for (const [name, path] of helpPages) await visit(name, path);
  await page.goto(base + "/tickets/" + ref);
  if (!page.url().includes("/login")) fail("an agent page opened without signing in");
  await check("login-from-link");
  await visit("forgot", "/password/forgot");
  await signIn(page, base, email, password);

  // The keyboard's first stop is the skip link; it takes focus to the content.
  await page.goto(base + "/tickets");
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement && document.activeElement.textContent.trim());
  if (first !== "Skip to content") fail("the first Tab lands on " + JSON.stringify(first));
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  if (ring === "none") fail("the focused skip link shows no focus ring");
  await page.keyboard.press("Enter");
  if ((await page.evaluate(() => document.activeElement && document.activeElement.id)) !== "main") fail("the skip link does not move focus to the content");

  for (const [name, path] of agentPages(ref)) await visit(name, path);
  await visit("notfound", "/tickets/TKT-999999", 404);
  // New ticket suggests the people the desk knows as the address is typed.
  await page.goto(base + "/tickets/new");
  await page.fill("input[name=requester_email]", "gin");
  await page.waitForFunction(() => document.querySelectorAll("#people-suggest option").length > 0, null, { timeout: 5000 }).catch(() => fail("no suggestions for 'gin'"));
  const offered = await page.locator("#people-suggest option").first().getAttribute("value");
  if (offered !== "gina@customer.test") fail("suggested " + offered);
  await page.fill("input[name=requester_email]", "gina@customer.test");
  if ((await page.inputValue("input[name=requester_name]")) !== "Gina Customer") fail("picking a suggestion did not fill the name");
  await page.goto(base + `/tickets/${ref}`);
  const person = await page.locator("a[href^='/requesters/']").first().getAttribute("href");
  await visit("requester", person);

  // A form sent with a token that no longer holds: the page that keeps the text.
  await page.goto(base + `/tickets/${ref}`);
  await page.fill("#reply textarea[name=body]", "Text that must not be lost.");
  await page.evaluate(() => {
    const f = document.getElementById("reply");
    f.action = f.action.replace(/_csrf=[^&]*/, "_csrf=stale");
    f.querySelectorAll("input[name=_csrf]").forEach((i) => { i.value = "stale"; });
  });
  await page.locator("#reply button[type=submit]").first().click();
  await page.waitForLoadState();
  if (!(await page.content()).includes("Text that must not be lost.")) fail("the expired-form page lost the text");
  await check("expired");

  if (errors.length) fail("page errors: " + errors.join(" | "));
  if (problems.length) fail(problems.length + " problems:\n" + problems.join("\n"));
  console.log("OK pages");
} finally {
  await browser.close();
}
