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
