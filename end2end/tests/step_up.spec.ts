import { expect, test, type Locator, type Page } from "@playwright/test";

import { signInThroughResetLink, signUp } from "./helpers";

const fresh = "a brand new long passphrase";

/** Signs up, then in again through a reset link: a session, but no fresh proof of who holds it. */
async function staleSession(page: Page) {
  await signInThroughResetLink(page, await signUp(page), fresh);
}

/** Answers "Confirm it is you" (a dialog, or a page without script): a wrong password first (refused, said there), then the right one. */
async function confirmIn(dialog: Locator) {
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Your password").fill("not my password, surely");
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog.getByText("Your current password is not correct.")).toBeVisible();
  await dialog.getByLabel("Your password").fill(fresh);
  await dialog.getByRole("button", { name: "Confirm" }).click();
}

test("a session that has not proved its user lately confirms first, then the action completes", async ({ page }) => {
  await staleSession(page);

  // The server refuses on its own, whatever the page does.
  const refused = await page.request.post("/api/connection_create", {
    form: { name: "Refused", external_id: "" },
    headers: { Accept: "application/json", Origin: "http://127.0.0.1:3000" },
  });
  expect(refused.status()).toBe(403);
  expect(await refused.text()).toContain("StepUpRequired");

  // The page asks inline, and then creates the connection it held back.
  await page.goto("/connections/new");
  await page.waitForLoadState("networkidle");
  await page.getByLabel("Name").fill("Confirmed first");
  await page.getByRole("button", { name: "Create connection" }).click();
  await confirmIn(page.getByRole("dialog", { name: "Confirm it is you" }));
  await expect(page.getByRole("heading", { name: "Confirmed first", level: 1 })).toBeVisible();

  // Fresh for ten minutes: the next such action asks nothing.
  await page.waitForLoadState("networkidle");
  await page.getByText("Delete this connection…").click();
  await page.getByRole("button", { name: "Delete connection" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("dialog", { name: "Confirm it is you" })).toHaveCount(0);
});

test("without script, a refused form asks on a page of its own, then goes through when sent again", async ({ browser, page }) => {
  await staleSession(page);
  const plain = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const tab = await plain.newPage();
  await tab.goto("/connections/new");
  await tab.getByLabel("Name").fill("Sent twice");
  await tab.getByRole("button", { name: "Create connection" }).click();
  await expect(tab).toHaveURL(/\/confirm\?next=/);
  await confirmIn(tab.getByRole("region", { name: "Confirm it is you" }));
  // Back on the form, with what was typed, to send it again.
  await expect(tab).toHaveURL(/\/connections\/new\?name=Sent%20twice$/);
  await expect(tab.getByLabel("Name")).toHaveValue("Sent twice");
  await tab.getByRole("button", { name: "Create connection" }).click();
  // Created: the answer sends the browser to the new connection's page (which, streamed, fills
  // in with script; the connection itself is checked from the script-enabled tab).
  await expect(tab).toHaveURL(/\/connections\/\d+$/);
  await page.goto(new URL(tab.url()).pathname);
  await expect(page.getByRole("heading", { name: "Sent twice", level: 1 })).toBeVisible();
  await plain.close();
});
