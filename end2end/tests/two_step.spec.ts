import { expect, test, type Page } from "@playwright/test";
import * as OTPAuth from "otpauth";

import { password, signUp } from "./helpers";

/** The phone: the code an authenticator app shows for `secret`, `ahead` seconds from now. */
function code(secret: string, ahead = 0): string {
  const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  return app.generate({ timestamp: Date.now() + ahead * 1000 });
}

async function signInWithPassword(page: Page, email: string) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sign-in\/code/);
}

test("set up an authenticator app from its QR code, then sign in with its codes and a recovery code", async ({ page }) => {
  const email = await signUp(page);
  await page.goto("/account");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.locator(".qr svg")).toBeVisible();
  await page.waitForLoadState("networkidle");
  await page.getByText("Cannot scan it?").click();
  const secret = (await page.locator(".totp-secret").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);

  // A wrong first code turns nothing on.
  await page.getByLabel("Code from the app").fill("000000");
  await page.locator("#two_step_password").fill(password);
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await expect(page.getByText("That code is not right")).toBeVisible();
  await page.getByLabel("Code from the app").fill(code(secret));
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  const codes = page.locator(".recovery-codes li");
  await expect(codes).toHaveCount(10);
  const recovery = (await codes.first().textContent())!.trim();
  expect(recovery).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  await page.getByRole("link", { name: "I have saved them" }).click();
  await expect(page.locator(".codes-left")).toHaveText("10");

  // The password is half a sign-in now; a wrong code is explained, the app's next code works.
  await signInWithPassword(page, email);
  await page.getByLabel("Code from your authenticator app").fill("123456");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByText("That code is not right")).toBeVisible();
  await page.getByLabel("Code from your authenticator app").fill(code(secret, 30));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();

  // Without the phone: a recovery code, once, and the page says how many remain.
  await signInWithPassword(page, email);
  await page.getByLabel("Code from your authenticator app").fill(recovery);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/account\?recovery_left=9/);
  await expect(page.getByRole("status").filter({ hasText: "Recovery codes left" })).toContainText("Recovery codes left: 9");
  await expect(page.locator(".codes-left")).toHaveText("9");
  await signInWithPassword(page, email);
  await page.getByLabel("Code from your authenticator app").fill(recovery);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByText("That code is not right")).toBeVisible();
});
