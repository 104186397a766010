// What the browser tests start with: the system Chromium driven by
// playwright-core, and signing in as an agent.
import { chromium } from "playwright-core";

/// Chromium as the tests run it (CHROMIUM names another binary).
export const launch = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

/// Signs `page` in and waits for the queue.
export async function signIn(page, base, email, password) {
  await page.goto(base + "/login");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/tickets/);
}

/// The pages an admin opens, by a short name (for screenshots).
export const agentPages = (ref) => [
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
  ["kb", "/kb"],
  ["kb-article", "/kb/1"],
  ["kb-history", "/kb/1/history"],
  ["kb-new", "/kb/new"],
  ["people-import", "/people/import"],
];

/// The help page's knowledge base, as a signed-out customer opens it.
export const helpPages = [
  ["help-kb", "/help/kb"],
  ["help-article", "/help/kb/1"],
  ["help-search", "/help/kb/search?q=invoice"],
  ["help-category", "/help/kb/category/1"],
];

/// One page at 1366×768 and 390×844: no sideways scrolling at either size,
/// no serious or critical axe-core violation, a screenshot of each size.
/// What is wrong goes to `problems`.
export async function checkPage(page, name, shots, problems, axePath) {
  for (const [size, w, h] of [["", 1366, 768], ["-phone", 390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(50);
    {
      // Neither size scrolls sideways (German words are long).
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
}

