// Headless Chromium: a quiet thread. The folded mail line opens to its
// list, a long older message opens to its whole text (the preview goes),
// "Add note" at the top turns the reply box into a note and focuses it,
// and a web address in a message is a link that passes nothing on.
// Usage: node thread.mjs BASE EMAIL PASSWORD REF SHOTS
import { launch, signIn } from "./common.mjs";

const [base, email, password, ref, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await signIn(page, base, email, password);
  await page.goto(base + "/tickets/" + ref);

  const folded = page.locator("details.event.folded");
  if ((await folded.count()) !== 1) fail("folded lines: " + (await folded.count()));
  if (await folded.locator("li").first().isVisible()) fail("the folded list shows before it is opened");
  await folded.locator("summary").click();
  if ((await folded.locator("li:visible").count()) !== 3) fail("the opened line lists " + (await folded.locator("li:visible").count()) + " mails");

  const more = page.locator("article .collapsible").first();
  if (!(await more.locator(".preview").isVisible())) fail("no preview of the long message");
  if (await more.locator("details.more .textbody").isVisible()) fail("the whole text shows before it is asked for");
  await more.locator("details.more summary").click();
  if (await more.locator(".preview").isVisible()) fail("the preview stays beside the whole text");
  if (!(await more.getByText("Step 40:").isVisible())) fail("the end of the message is not shown");

  const link = page.locator(".textbody a[href='https://status.example.test/incident?id=7']").first();
  if ((await link.getAttribute("rel")) !== "noopener noreferrer nofollow" || (await link.getAttribute("target")) !== "_blank") fail("the link passes things on");

  await page.click(".head-actions a[data-compose=note]");
  if (!(await page.isChecked("#internal"))) fail("Add note did not turn the box into a note");
  if (!(await page.evaluate(() => document.activeElement && document.activeElement.id === "replytext"))) fail("the reply box is not focused");
  if (!(await page.locator("#replytext").isVisible())) fail("the reply box is not in view");
  await page.screenshot({ path: shots + "/thread.png", fullPage: false });
  await page.click(".head-actions a[data-compose=reply]");
  if (await page.isChecked("#internal")) fail("Reply left the box as a note");
  console.log("OK thread");
} finally {
  await browser.close();
}
