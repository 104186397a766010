// Headless Chromium: login -> queue -> ticket -> reply, with screenshots.
// Usage: node flow.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR
// Exits non-zero with a message when any step does not behave.
import { chromium } from "playwright-core";

const [base, email, password, shots] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };

const browser = await chromium.launch({
  executablePath,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 820 } });
  await page.goto(base + "/tickets");
  if (!page.url().includes("/login")) fail("not redirected to login: " + page.url());
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", "wrong password!!");
  await page.click("button[type=submit]");
  if (!(await page.textContent("body")).includes("Wrong email or password")) fail("wrong password not reported");
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/tickets/);
  const rows = await page.locator("table.tickets tbody tr").count();
  if (rows < 1) fail("queue shows no tickets");
  await page.screenshot({ path: shots + "/queue.png", fullPage: true });

  // keyboard: j selects the first row, Enter opens it
  await page.keyboard.press("j");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/tickets\/[A-Z]+-\d+/);
  const ref = page.url().split("/").pop().split("?")[0];
  const before = await page.locator(".ticket-head .badge").first().textContent();

  await page.keyboard.press("r");
  await page.keyboard.type("Thanks for calling. Please restart the router and tell us if the light turns green.");
  await page.click("#sendbtn");
  await page.waitForURL(/done=reply/);
  const thread = await page.textContent(".thread");
  if (!thread.includes("restart the router")) fail("reply not in thread");
  const after = await page.locator(".ticket-head .badge").first().textContent();
  if (before.trim() === "Open" && after.trim() !== "Pending") fail(`status after reply is ${after}, expected Pending`);

  // internal note via the toggle
  await page.check("#internal");
  if ((await page.textContent("#sendbtn")).trim() !== "Add internal note") fail("note toggle did not relabel the button");
  // "@" offers the agents; Enter takes the first.
  await page.fill("#replytext", "");
  await page.type("#replytext", "@ad");
  if (!(await page.isVisible("#mentionbox"))) fail("typing @ in a note offers no agents");
  if (!(await page.textContent("#mentionbox")).includes("Ada Admin")) fail("the mention list lacks Ada: " + await page.textContent("#mentionbox"));
  await page.keyboard.press("Enter");
  if (!(await page.inputValue("#replytext")).startsWith("@admin ")) fail("Enter did not insert the mention: " + await page.inputValue("#replytext"));
  await page.keyboard.type("Customer sounded annoyed; escalate if no answer by Friday.");
  await page.click("#sendbtn");
  await page.waitForURL(/done=note/);
  if ((await page.locator("article.entry.note").count()) < 1) fail("internal note not shown as a note");
  await page.screenshot({ path: shots + "/ticket.png", fullPage: true });

  // "m" takes the ticket; "?" shows every shortcut.
  await page.keyboard.press("m");
  await page.waitForURL(/done=saved/);
  const assignee = await page.$eval("select[name=assignee]", (s) => s.options[s.selectedIndex].textContent);
  if (!assignee.includes("Ada")) fail("m did not assign the ticket to me: " + assignee);
  if (!(await page.textContent(".thread")).includes("assigned the ticket to Ada Admin")) fail("assignment not in history");
  await page.keyboard.press("?");
  if (!(await page.isVisible("#kbdhelp"))) fail("? did not show the shortcuts");
  await page.screenshot({ path: shots + "/shortcuts.png" });
  await page.keyboard.press("Escape");
  if (await page.isVisible("#kbdhelp")) fail("Esc did not close the shortcuts");
  await page.keyboard.press("?");
  await page.click("#kbdhelp button.kbdclose");
  if (await page.isVisible("#kbdhelp")) fail("the Close button did not close the shortcuts");
  // "m" on a ticket of mine would release it: it asks first (declined: still mine).
  let asked = "";
  page.once("dialog", (d) => { asked = d.message(); d.dismiss(); });
  await page.keyboard.press("m");
  await page.waitForTimeout(300);
  if (!asked.startsWith("Release this ticket")) fail("m released without asking: " + asked);
  const kept = await page.$eval("select[name=assignee]", (s) => s.options[s.selectedIndex].textContent);
  if (!kept.includes("Ada") || page.url().includes("done=saved&")) fail("the declined release changed the assignee: " + kept);

  // jump box finds the ticket by reference
  await page.goto(base + "/tickets");
  await page.keyboard.press("/");
  await page.keyboard.type(ref.toLowerCase());
  await page.keyboard.press("Enter");
  await page.waitForURL(new RegExp("/tickets/" + ref));

  // snooze: the box offers shortcuts in my time zone; snoozed, the ticket
  // says until when and leaves the active queue
  await page.click("details.snooze summary");
  const first = await page.locator("details.snooze select[name=snooze_until] option").first().textContent();
  if (!first.includes("Tomorrow 9:00")) fail("the first snooze shortcut is " + first);
  await page.locator("details.snooze form").first().locator("button[type=submit]").click();
  await page.waitForURL(/done=saved/);
  const badge = (await page.locator(".ticket-head .badge").first().textContent()).trim();
  if (badge !== "Snoozed") fail("after snoozing the badge says " + badge);
  if (!(await page.textContent("details.snooze summary")).includes("Snoozed until")) fail("the snooze time is not shown");
  if (!(await page.textContent(".thread")).includes("snoozed the ticket until")) fail("the snooze is not in the history");
  await page.screenshot({ path: shots + "/snoozed.png", fullPage: true });
  await page.goto(base + "/tickets");
  if ((await page.textContent("body")).includes(ref)) fail("a snoozed ticket is still in the active queue");
  await page.goto(base + "/tickets?status=snoozed");
  if (!(await page.textContent("body")).includes(ref)) fail("the snoozed ticket is not under Snoozed");

  // phone-sized screen
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(base + "/tickets");
  await phone.screenshot({ path: shots + "/queue-phone.png", fullPage: true });
  await phone.goto(base + "/tickets/" + ref);
  await phone.screenshot({ path: shots + "/ticket-phone.png", fullPage: true });
  console.log("OK " + ref);
} finally {
  await browser.close();
}
