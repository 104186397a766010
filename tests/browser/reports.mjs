// Headless Chromium: the Reports page, desktop and phone — the charts are
// drawn (SVG bars with their hover titles), the filters change the report,
// each table's CSV downloads, and nothing overflows a 390 px phone.
// Usage: node reports.mjs BASE EMAIL PASSWORD SHOTS
import { launch, signIn } from "./common.mjs";
import { readFileSync } from "node:fs";

const [base, email, password, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await signIn(page, base, email, password);

  await page.click("nav.mainnav a[href='/reports']");
  await page.waitForURL(/\/reports/);
  const tile = async (name) => (await page.locator(`dl.tiles div:has(dt:text-is("${name}")) dd`).textContent()).trim();
  if ((await tile("Created")) !== "6") fail("Created reads " + (await tile("Created")));
  if ((await tile("Resolved")) !== "3") fail("Resolved reads " + (await tile("Resolved")));
  const bars = page.locator("#volume figure.chart svg rect");
  if ((await bars.count()) < 10) fail("the volume chart has " + (await bars.count()) + " bars");
  const box = await page.locator("#volume figure.chart svg").boundingBox();
  if (!box || box.width < 600 || box.height < 150) fail("the volume chart is drawn at " + JSON.stringify(box));
  const titles = await page.locator("#volume svg rect title").allTextContents();
  if (!titles.some((t) => / 3 created$/.test(t))) fail("no bar says 3 created: " + titles.join(" | "));
  const widths = await page.locator("#backlog svg rect").evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().width));
  if (widths.length !== 5 || !widths.some((w) => w > 20)) fail("the backlog bars are " + widths.join(","));
  await page.screenshot({ path: shots + "/reports.png", fullPage: true });

  // Break down by channel: the table follows.
  await page.selectOption("select[name=group]", "channel");
  await page.click("form.report-filters button[type=submit]");
  await page.waitForURL(/group=channel/);
  const heads = await page.locator("#groups table thead th").allTextContents();
  if (heads[0] !== "Channel") fail("the breakdown heads " + heads.join(","));
  const rows = await page.locator("#groups table tbody th").allTextContents();
  if (!rows.includes("Web") || !rows.includes("Phone")) fail("channels: " + rows.join(","));

  // The CSV of the volume table downloads with the same filters.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#volume a[download]")]);
  const csv = readFileSync(await download.path(), "utf8");
  if (!csv.startsWith("Day starting,Created,Resolved\r\n")) fail("the CSV starts " + JSON.stringify(csv.slice(0, 60)));
  const total = csv.trim().split("\r\n").slice(1).reduce((n, l) => n + Number(l.split(",")[1]), 0);
  if (total !== 6) fail("the CSV counts " + total + " created");

  // Phone: no sideways scrolling, the charts shrink to fit.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 390) fail("the page is " + wide + " px wide on a phone");
  // The chart keeps readable text and scrolls inside its own frame.
  const phoneBox = await page.locator("#volume figure.chart").boundingBox();
  if (!phoneBox || phoneBox.x < 0 || phoneBox.x + phoneBox.width > 390) fail("the chart's frame overflows: " + JSON.stringify(phoneBox));
  const tick = await page.locator("#volume svg text.tick").first().evaluate((t) => t.getBoundingClientRect().height);
  if (tick < 8) fail("the chart's text is " + tick + " px high on a phone");
  await page.screenshot({ path: shots + "/reports-phone.png", fullPage: true });
  if (errors.length) fail("console errors: " + errors.join(" | "));
  console.log("OK reports");
} finally {
  await browser.close();
}
