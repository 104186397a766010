// Headless Chromium over every page an agent, an admin and a signed-out
// visitor can open (issue 18 parts 6 and 10): at 1366×768 and at 390×844
// each page loads, axe-core finds no serious or critical WCAG 2.2 AA
// violation, the phone does not scroll sideways, and a screenshot of each
// size is kept.
// Usage: node pages.mjs BASE EMAIL PASSWORD REF PORTAL_PATH SHOTS
import { launch, signIn } from "./common.mjs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const [base, email, password, ref, portal, shots] = process.argv.slice(2);
const problems = [];
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();

// axe-core is injected past the desk's Content-Security-Policy (the desk
// itself allows no inline script).
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, bypassCSP: true });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

async function check(name, expectStatus) {
  for (const [size, w, h] of [["", 1366, 768], ["-phone", 390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(50);
    if (size) {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (wide > w + 1) {
        // Name the outermost elements that stick out.
        const out = await page.evaluate((w) => [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > w + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1))
          .slice(0, 4).map((e) => { const path = []; for (let x = e; x && x !== document.body; x = x.parentElement) path.unshift(x.tagName.toLowerCase() + (typeof x.className === "string" && x.className ? "." + x.className.trim().split(/\s+/).join(".") : "")); return path.join(" > "); }), w);
        problems.push(`${name}: ${wide} px wide at ${w} px (${out.join(", ")})`);
      }
    }
    await page.addScriptTag({ path: axePath });
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } });
      // Serious and critical ones, and the landmark and structure rules the
      // review named, whatever their impact.
      const named = ["landmark-one-main", "region", "landmark-unique", "heading-order", "empty-table-header", "link-in-text-block"];
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical" || named.includes(v.id)).map((v) => `${v.id} (${v.impact}) at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
    });
    for (const v of result) problems.push(`${name}${size}: ${v}`);
    await page.screenshot({ path: `${shots}/page-${name}${size}.png`, fullPage: !size });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
  void expectStatus;
}

async function visit(name, path, expectStatus = 200) {
  const res = await page.goto(base + path);
  if (!res || res.status() !== expectStatus) fail(`${path} answered ${res && res.status()}, not ${expectStatus}`);
  await check(name);
}

try {
  await visit("login", "/login");
  // The customer's page from the link in their mail (no agent signed in).
  await visit("portal", portal);
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

  for (const [name, path] of [
    ["queue", "/tickets"],
    ["following", "/tickets/following"],
    ["mentions", "/tickets/mentions"],
    ["ticket", `/tickets/${ref}`],
    ["print", `/tickets/${ref}/print`],
    ["new", "/tickets/new"],
    ["search", "/search?q=invoice"],
    ["people", "/people"],
    ["orgs", "/organizations"],
    ["junk", "/junk"],
    ["trash", "/trash"],
    ["reports", "/reports"],
    ["settings", "/settings"],
    ["profile", "/settings/profile"],
    ["twofactor", "/settings/2fa"],
    ["agents", "/admin/agents"],
    ["outbox", "/admin/outbox"],
    ["audit", "/admin/audit"],
    ["backups", "/admin/backups"],
    ["tokens", "/admin/tokens"],
    ["webhooks", "/admin/webhooks"],
    ["config", "/admin/config"],
  ]) await visit(name, path);
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
