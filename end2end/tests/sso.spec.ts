import { expect, test, type Page } from "@playwright/test";
import * as OTPAuth from "otpauth";

import { password } from "./helpers";

// Single sign-on through a real OpenID provider (end2end/oidc/provider.mjs, started by
// scripts/test.sh), whose login page takes any name: `[modes:]email` (see that file). Crossview's
// PUBLIC_URL is http://localhost:3000, where the provider sends people back.
test.use({ baseURL: "http://localhost:3000" });

function unique(name: string, domain = "example.test"): string {
  return `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@${domain}`;
}

/** Through the provider's own login page, from Crossview's sign-in page. */
async function throughProvider(page: Page, login: string) {
  // Signed out at the provider too, so that its login page asks who this is.
  await page.context().clearCookies({ domain: "127.0.0.1" });
  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
}

test("a verified address in an allowed domain gets an account at its first sign-in", async ({ page }) => {
  const email = unique("ada");
  await throughProvider(page, email);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  await expect(page).toHaveURL("http://localhost:3000/");
  // The account has no password to change; its sessions list names the provider.
  await page.goto("/account");
  await expect(page.locator("#sessions")).toContainText("sso:sso");
  // Signing in again finds the same account.
  await signOut(page);
  await throughProvider(page, email);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
});

test("other domains, unverified addresses and cancelled sign-ins are refused with the reason", async ({ page }) => {
  await throughProvider(page, unique("mallory", "elsewhere.test"));
  await expect(page).toHaveURL(/\/sign-in\?error=SsoDomainRefused/);
  await expect(page.getByText("does not create accounts for its domain")).toBeVisible();

  await throughProvider(page, `unverified:${unique("una")}`);
  await expect(page.getByText("did not say that your email address is verified")).toBeVisible();

  // The provider's answer without a code (as when the person cancels there).
  await page.goto("/sso/callback?error=access_denied&state=x");
  await expect(page.getByText("did not sign you in")).toBeVisible();
  // A callback that no sign-in on this browser started.
  await page.goto("/sso/callback?code=stolen&state=forged");
  await expect(page.getByText("started in another browser")).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
});

for (const [mode, message] of [
  ["nonce", "could not be trusted"],
  ["aud", "could not be trusted"],
  ["iss", "could not be trusted"],
  ["badsig", "could not be trusted"],
  ["expired", "had already expired"],
] as const) {
  test(`an ID token with a wrong ${mode} signs nobody in`, async ({ page }) => {
    await throughProvider(page, `${mode}:${unique("eve")}`);
    await expect(page).toHaveURL(/\/sign-in\?error=/);
    await expect(page.getByText(message)).toBeVisible();
    await page.goto("/account");
    await expect(page).toHaveURL(/\/sign-in/);
  });
}

test("an existing password account is linked only after its password", async ({ page }) => {
  const email = unique("pat");
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  await signOut(page);

  // The provider asserts the address; that alone takes the account over from nobody.
  await throughProvider(page, email);
  await expect(page).toHaveURL(/\/sign-in\/link/);
  await expect(page.getByText(`An account for ${email} exists already`)).toBeVisible();
  await page.goto("/account");
  await expect(page).toHaveURL(/\/sign-in/);

  await throughProvider(page, email);
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Link and sign in" }).click();
  await expect(page.getByText("Email or password is incorrect.")).toBeVisible();
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Link and sign in" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();

  // Linked: the provider alone signs it in from now on.
  await signOut(page);
  await throughProvider(page, email);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
});

test("the provider's admin group makes an administrator, re-read at every sign-in", async ({ page }) => {
  const email = unique("root");
  await throughProvider(page, `admin:${email}`);
  await expect(page.getByRole("link", { name: "Admin" })).toBeVisible();
  await page.goto("/admin/users");
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();

  // Out of the group at the provider: no longer an administrator here.
  await signOut(page);
  await throughProvider(page, email);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.goto("/admin/users");
  await expect(page.getByText("Not allowed")).toBeVisible();
});

test("the provider's MFA counts as the second step; without it, Crossview's own is asked", async ({ page }) => {
  const email = unique("mia");
  await throughProvider(page, email);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  // An authenticator app on the account (no password: just signed in proves the user).
  await page.goto("/account");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await page.waitForLoadState("networkidle");
  await page.getByText("Cannot scan it?").click();
  const secret = (await page.locator(".totp-secret").textContent())!.trim();
  const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  await page.getByLabel("Code from the app").fill(app.generate());
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await expect(page.locator(".recovery-codes li")).toHaveCount(10);

  await page.goto("/");
  await signOut(page);
  await throughProvider(page, email);
  await expect(page).toHaveURL(/\/sign-in\/code/);
  await page.getByLabel("Code from your authenticator app").fill(app.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();

  await signOut(page);
  await throughProvider(page, `mfa:${email}`);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  await page.goto("/account");
  await expect(page.locator("#sessions")).toContainText("sso:sso+mfa");
});
