import { expect, test } from "@playwright/test";

import { password, signUp } from "./helpers";

test("see where the account is signed in and sign out the other browser", async ({ browser, page }) => {
  const email = await signUp(page);
  const other = await browser.newContext();
  const elsewhere = await other.newPage();
  await elsewhere.goto("/sign-in");
  await elsewhere.getByLabel("Email").fill(email);
  await elsewhere.getByLabel("Password").fill(password);
  await elsewhere.getByRole("button", { name: "Sign in" }).click();
  await expect(elsewhere.getByRole("link", { name: email })).toBeVisible();

  await page.goto("/account");
  const rows = page.locator(".sessions .session");
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "This browser" })).toHaveCount(1);
  await expect(rows.first()).toContainText("Chrome on Linux");
  await rows.filter({ hasNotText: "This browser" }).getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("Signed out 1 session.")).toBeVisible();
  await expect(rows).toHaveCount(1);

  await elsewhere.reload();
  await expect(elsewhere).toHaveURL(/\/sign-in/);
  await other.close();
});
