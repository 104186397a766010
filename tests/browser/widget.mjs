// The help widget on another site's page (issue 15 part 2): the page's
// styles and the widget's leave each other alone, the keyboard opens it (focus
// in the form) and Escape closes it (focus back on its button), the subject
// brings a suggested article, a request is sent across origins; on a site not
// listed in portal.widget_origins the widget does not appear.
// Usage: node widget.mjs SITE OTHER_SITE SHOTS
import { launch } from "./common.mjs";

const [site, other, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

try {
  await page.goto(site);
  const launcher = page.locator("[data-frontdesk-widget] button.launcher");
  await launcher.waitFor({ timeout: 10000 }).catch(() => fail("no widget on the listed site"));
  // Styles stay on their side of the shadow root.
  const theirs = await page.evaluate(() => {
    const b = document.querySelector("main button.launcher");
    return [getComputedStyle(b).backgroundColor, getComputedStyle(b).color];
  });
  if (theirs[0] !== "rgb(255, 0, 0)" || theirs[1] !== "rgb(0, 128, 0)") fail("the widget changed the page's button: " + theirs);
  const ours = await launcher.evaluate((b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b).fontSize, getComputedStyle(b).position]);
  if (ours[0] !== "rgb(47, 91, 234)" || ours[1] !== "15px" || ours[2] !== "fixed") fail("the page's styles reached the widget: " + ours);

  // The keyboard: Tab reaches the button, Enter opens with focus in the form.
  await page.locator("main button.launcher").focus();
  await page.keyboard.press("Tab");
  if (!(await launcher.evaluate((b) => b.getRootNode().activeElement === b))) fail("Tab does not reach the widget's button");
  await page.keyboard.press("Enter");
  const panel = page.locator("[data-frontdesk-widget] [role=dialog]");
  await panel.waitFor({ state: "visible", timeout: 5000 }).catch(() => fail("Enter did not open the form"));
  if ((await launcher.getAttribute("aria-expanded")) !== "true") fail("aria-expanded not set");
  const focused = await page.evaluate(() => document.querySelector("[data-frontdesk-widget]").shadowRoot.activeElement?.name);
  if (focused !== "name") fail("focus went to " + focused);
  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "hidden", timeout: 5000 }).catch(() => fail("Escape did not close the form"));
  if (!(await launcher.evaluate((b) => b.getRootNode().activeElement === b))) fail("focus did not return to the button");

  // A request, with a suggestion on the way.
  await launcher.click();
  await page.waitForTimeout(1200); // the desk's min_fill_secs is 1
  await page.fill("[data-frontdesk-widget] input[name=name]", "Erin");
  await page.fill("[data-frontdesk-widget] input[name=email]", "erin@buyer.test");
  const dept = await page.locator("[data-frontdesk-widget] select[name=department]").inputValue();
  if (dept !== "Sales") fail("data-department did not choose Sales: " + dept);
  await page.locator("[data-frontdesk-widget] input[name=subject]").pressSequentially("Quote for 40 seats", { delay: 15 });
  const suggest = page.locator("[data-frontdesk-widget] .suggest");
  await suggest.waitFor({ state: "visible", timeout: 5000 }).catch(() => fail("no suggestion for the subject"));
  if (!(await suggest.innerText()).includes("Volume licences and quotes")) fail("suggested: " + (await suggest.innerText()));
  await page.fill("[data-frontdesk-widget] textarea[name=body]", "Please send a quote for 40 seats.");
  await page.screenshot({ path: `${shots}/widget-open.png` });
  await page.locator("[data-frontdesk-widget] button.send").click();
  const status = page.locator("[data-frontdesk-widget] .status");
  await page.waitForFunction(() => /erin@buyer\.test/.test(document.querySelector("[data-frontdesk-widget]").shadowRoot.querySelector(".status").textContent), null, { timeout: 10000 })
    .catch(async () => fail("no answer: " + (await status.innerText())));
  if ((await status.getAttribute("class")).includes("error")) fail("refused: " + (await status.innerText()));
  if (errors.length) fail("page errors: " + errors.join("; "));

  // A site that is not listed: no widget.
  const page2 = await context.newPage();
  await page2.goto(other);
  await page2.waitForTimeout(1500);
  if ((await page2.locator("[data-frontdesk-widget] button.launcher").count()) !== 0) fail("the widget appeared on an unlisted site");
  console.log("OK widget");
} finally {
  await browser.close();
}
