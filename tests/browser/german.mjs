// The German UI in headless Chromium (issue 18 part 11): a browser that asks
// for German gets every page in German — signed out, the customer's page,
// and every page an admin opens — at 1366×768 and 390×844, with no text of
// the English catalog left untranslated and no English sentence outside
// what the page marks as English (lang="en") or the customer's own words;
// axe-core and the phone's width are checked as for English (German words
// are longer); the script's own texts (draft status, shortcut overlay) are
// German too. Screenshots `page-de-*.png` are kept.
// Usage: node german.mjs BASE EMAIL PASSWORD REF PORTAL_PATH RATING_PATH SHOTS
import { agentPages, helpPages, checkPage, launch, signIn } from "./common.mjs";
import { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const [base, email, password, ref, portal, rating, shots] = process.argv.slice(2);
const problems = [];
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };

// The German catalogs: every English text whose German differs.
const catalog = new Map();
const dir = new URL("../../locales/de/", import.meta.url);
for (const f of readdirSync(dir).filter((n) => n.endsWith(".toml"))) {
  for (const line of readFileSync(new URL(f, dir), "utf8").split("\n")) {
    const m = line.match(/^\s*("(?:[^"\\]|\\.)*")\s*=\s*("(?:[^"\\]|\\.)*")\s*$/);
    if (!m) continue;
    try { catalog.set(JSON.parse(m[1]), JSON.parse(m[2])); } catch { /* a TOML-only escape */ }
  }
}
// A text that is also some entry's German ("Was") is not a leftover.
const german = new Set([...catalog.values()].map((v) => v.trim()));
const english = [...catalog].filter(([en, de]) => en !== de && /[a-z]{3}/.test(en) && !german.has(en.trim())).map(([en]) => en.trim());
// The admin's own names from the config (the default categories) are shown
// as configured, in any language.
const configured = ["General", "Billing", "Technical", "Account", "Feature Request", "Bug Report", "Other"];
if (english.length < 300) fail(`only ${english.length} German entries found`);

const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, bypassCSP: true, locale: "de-DE" });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

/// Text on the page that is English: a catalog text shown as is, or a
/// sentence with English function words, outside the customer's words and
/// what is marked lang="en".
async function leftovers() {
  return page.evaluate(([keys, own]) => {
    const known = new Set(keys.filter((k) => !own.includes(k)));
    const words = /\b(the|and|with|your|you|this|from|there|which|have|has|are|for|were|been|into)\b/;
    // (.kb-text and .kb-list: the knowledge base's articles, as the desk wrote them.)
    const skip = "script, style, textarea, option[value=''], [lang=en], .thread, .textbody, .preview, td.subject, .subject-line, pre, code, iframe, .whoami, .kb-text, .kb-list";
    const out = new Set();
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const t = n.textContent.replace(/\s+/g, " ").trim();
      if (!t || !n.parentElement || n.parentElement.closest(skip)) continue;
      if (known.has(t) || words.test(t)) out.add(t.slice(0, 90));
    }
    for (const el of document.querySelectorAll("[title], [placeholder], [aria-label], input[type=submit][value]")) {
      if (el.closest(skip)) continue;
      for (const a of ["title", "placeholder", "aria-label", "value"]) {
        const v = (el.getAttribute(a) || "").trim();
        if (v && !v.includes("@") && (a !== "value" || el.type === "submit") && (known.has(v) || words.test(v))) out.add(`${a}="${v.slice(0, 80)}"`);
      }
    }
    return [...out];
  }, [english, configured]);
}

async function visit(name, path, expectStatus = 200) {
  const res = await page.goto(base + path);
  if (!res || res.status() !== expectStatus) fail(`${path} answered ${res && res.status()}, not ${expectStatus}`);
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== "de") problems.push(`${name}: <html lang="${lang}">`);
  for (const t of await leftovers()) problems.push(`${name}: English left: ${JSON.stringify(t)}`);
  await checkPage(page, "de-" + name, shots, problems, axePath);
}

try {
  await visit("login", "/login");
  await visit("forgot", "/password/forgot");
  await visit("portal", portal);
  await visit("rating", rating);
  await visit("help", "/help");
  for (const [name, path] of helpPages) await visit(name, path);
  await signIn(page, base, email, password);
  for (const [name, path] of agentPages(ref)) await visit(name, path);
  await visit("notfound", "/tickets/TKT-999999", 404);

  // The script speaks German too: the draft's status as a reply is typed,
  // and the shortcut overlay.
  await page.goto(base + `/tickets/${ref}`);
  await page.fill("#reply textarea[name=body]", "Wir prüfen das.");
  await page.waitForFunction(() => { const s = document.getElementById("draftstate"); return s && s.textContent.trim().length > 0; }, null, { timeout: 8000 })
    .catch(() => problems.push("no draft status appeared"));
  const status = await page.evaluate(() => { const s = document.getElementById("draftstate"); return s ? s.textContent.trim() : ""; });
  if (!status || english.includes(status) || /draft|saved/i.test(status)) problems.push(`draft status in English: ${JSON.stringify(status)}`);
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("?");
  await page.waitForTimeout(200);
  for (const t of await leftovers()) problems.push(`shortcut overlay: English left: ${JSON.stringify(t)}`);
  await page.screenshot({ path: `${shots}/page-de-shortcuts.png` });

  if (errors.length) fail("page errors: " + errors.join(" | "));
  if (problems.length) fail(problems.length + " problems:\n" + problems.join("\n"));
  console.log("OK german");
} finally {
  await browser.close();
}
