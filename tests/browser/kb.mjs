// The knowledge base in Chromium (issue 15 part 3): a customer typing a
// request's subject on the help page sees the matching public article
// (never the internal one) and opens it; an agent finds articles from the
// reply box and inserts a public one's link and an internal one's text.
// Usage: node kb.mjs BASE EMAIL PASSWORD REF SHOTS
import { launch, signIn } from "./common.mjs";

const [base, email, password, ref, shots] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

try {
  // The customer types; the suggestion appears under the subject.
  await page.goto(base + "/help");
  await page.fill("input[name=email]", "carol@customer.test");
  await page.locator("#subject").pressSequentially("I cannot reset my passw", { delay: 20 });
  const box = page.locator("#suggestions");
  await box.waitFor({ state: "visible", timeout: 5000 }).catch(() => fail("no suggestions appeared"));
  const shown = await box.innerText();
  if (!shown.includes("Resetting your password")) fail("suggested: " + shown);
  if (shown.includes("vault")) fail("an internal article was suggested: " + shown);
  await page.screenshot({ path: `${shots}/kb-suggested.png` });
  // It opens in a new tab, so the form keeps what was typed.
  const [tab] = await Promise.all([context.waitForEvent("page"), box.locator("a").first().click()]);
  await tab.waitForLoadState();
  if (!tab.url().includes("from=suggest")) fail("the suggestion opened " + tab.url());
  if (!(await tab.content()).includes("<strong>Sign in</strong>")) fail("the article page lacks its text");
  await tab.close();
  if ((await page.inputValue("#subject")) !== "I cannot reset my passw") fail("the form lost its subject");
  // Deleting the subject takes the suggestions away.
  await page.fill("#subject", "");
  await page.locator("#subject").pressSequentially("x");
  await box.waitFor({ state: "hidden", timeout: 5000 }).catch(() => fail("suggestions stayed for 'x'"));

  // The agent inserts from the reply box.
  await signIn(page, base, email, password);
  await page.goto(base + "/tickets/" + ref);
  const text = page.locator("#replytext");
  await text.fill("Hello Carol, ");
  await page.locator("#kb-find").pressSequentially("password", { delay: 20 });
  const results = page.locator("#kb-results");
  await results.waitFor({ state: "visible", timeout: 5000 }).catch(() => fail("no articles offered in the reply box"));
  const offered = await results.innerText();
  if (!offered.includes("Resetting your password") || !offered.includes("Password vault for staff")) fail("offered: " + offered);
  await page.screenshot({ path: `${shots}/kb-insert.png` });
  await results.locator("li", { hasText: "Resetting your password" }).getByRole("button", { name: "Insert link" }).click();
  let value = await text.inputValue();
  if (!/Hello Carol, Resetting your password: https?:\/\/\S+\/help\/kb\/\d+-resetting-your-password/.test(value)) fail("after the link: " + value);
  if (await results.isVisible()) fail("the list stayed open");
  await page.locator("#kb-find").pressSequentially("vault", { delay: 20 });
  await results.waitFor({ state: "visible", timeout: 5000 });
  const vault = results.locator("li", { hasText: "Password vault for staff" });
  if ((await vault.getByRole("button", { name: "Insert link" }).count()) !== 0) fail("an internal article offered a link");
  await text.press("End");
  await vault.getByRole("button", { name: "Insert text" }).click();
  value = await text.inputValue();
  if (!value.endsWith("The vault lives at vault.internal.")) fail("after the text: " + value);
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log("OK kb");
} finally {
  await browser.close();
}
