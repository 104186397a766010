// Headless Chromium: the SLA badges of a ticket and the SLA views, desktop
// and phone. Usage: node sla.mjs BASE EMAIL PASSWORD LATE_REF WARN_REF SHOTS
import { launch, signIn } from "./common.mjs";

const [base, email, password, lateRef, warnRef, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await signIn(page, base, email, password);

  // Overdue: red, with the business time it is over by.
  await page.goto(base + "/tickets/" + lateRef);
  const box = page.locator("aside.panel section.sla-box");
  if (!(await box.isVisible())) fail("no SLA box on the ticket");
  const late = (await box.locator(".sla-late").first().textContent()).trim();
  if (!/^first response overdue by \d/.test(late)) fail("the overdue target reads " + late);
  const red = await box.locator(".sla-late").first().evaluate((e) => getComputedStyle(e).color);
  if (red !== "rgb(180, 35, 24)") fail("the overdue badge is not red: " + red);
  await page.screenshot({ path: shots + "/sla-ticket.png", fullPage: true });

  // Past the warning share: amber.
  await page.goto(base + "/tickets/" + warnRef);
  const warn = (await page.locator("section.sla-box .sla-warn").first().textContent()).trim();
  if (!/^first response due in \d+ m business time$/.test(warn)) fail("the warned target reads " + warn);
  const amber = await page.locator("section.sla-box .sla-warn").first().evaluate((e) => getComputedStyle(e).color);
  if (amber !== "rgb(147, 55, 13)") fail("the warned badge is not amber: " + amber);

  // The SLA column and the views.
  await page.goto(base + "/tickets?cols=status,priority,sla");
  if ((await page.locator("table.tickets td .sla").count()) < 2) fail("the SLA column shows no badges");
  await page.screenshot({ path: shots + "/sla-queue.png", fullPage: true });
  await page.click("nav.views a[href='/tickets/sla-breaching']");
  await page.waitForURL(/sla-breaching/);
  const breaching = await page.textContent("main");
  if (!breaching.includes(lateRef) || breaching.includes(warnRef)) fail("SLA breaching lists the wrong tickets");
  await page.goto(base + "/tickets/due-soon");
  const soon = await page.textContent("main");
  if (!soon.includes(warnRef) || soon.includes(lateRef)) fail("Due soon lists the wrong tickets");

  // Phone: the badge still reads.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/tickets/" + lateRef);
  if (!(await page.locator("section.sla-box .sla-late").first().isVisible())) fail("the badge is hidden on a phone");
  await page.screenshot({ path: shots + "/sla-ticket-phone.png", fullPage: true });
  console.log("OK sla");
} finally {
  await browser.close();
}
