import { expect, test, type CDPSession, type Page } from "@playwright/test";

import { password, signInThroughResetLink, signUp } from "./helpers";

// Passkeys in Chromium with a virtual authenticator (DevTools' WebAuthn domain), on localhost:
// an IP address cannot be a relying party, and Crossview's PUBLIC_URL is http://localhost:3000.
test.use({ baseURL: "http://localhost:3000" });

/** A platform authenticator that keeps discoverable credentials and verifies its user. */
async function authenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return { cdp, id: authenticatorId };
}

async function addPasskey(page: Page, name: string) {
  await page.goto("/account");
  await page.waitForLoadState("networkidle");
  await page.getByLabel("Name for a new passkey").fill(name);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page).toHaveURL(/passkeys=added/);
  await expect(page.locator(".passkey-name", { hasText: name })).toBeVisible();
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
}

async function withPasskey(page: Page) {
  await page.goto("/sign-in");
  await page.waitForLoadState("networkidle");
  await page.getByRole("button", { name: "Use a passkey" }).click();
}

test("register a passkey, sign in with it alone and as the second step, rename and remove it", async ({ page }) => {
  const { cdp, id } = await authenticator(page);
  const email = await signUp(page);
  await addPasskey(page, "Laptop");
  const [stored] = (await cdp.send("WebAuthn.getCredentials", { authenticatorId: id })).credentials;
  expect(stored.isResidentCredential).toBe(true);
  expect(stored.rpId).toBe("localhost");

  // Alone: the authenticator names the account, no address typed.
  await page.goto("/");
  await signOut(page);
  await withPasskey(page);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  await page.goto("/account");
  await expect(page.locator("#sessions")).toContainText("with passkey");

  // After the password, the passkey is the second step.
  await signOut(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sign-in\/code/);
  await page.waitForLoadState("networkidle");
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();

  // Rename, then remove.
  await page.goto("/account");
  await page.locator(".passkey-row summary", { hasText: "Rename" }).click();
  await page.getByLabel("New name").fill("Work laptop");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator(".passkey-name")).toHaveText("Work laptop");
  await page.waitForLoadState("networkidle");
  await page.getByRole("button", { name: "Remove passkey Work laptop" }).click();
  await expect(page).toHaveURL(/passkeys=removed/);
  await expect(page.getByText("No passkeys yet.")).toBeVisible();
  await signOut(page);
  await withPasskey(page);
  await expect(page.getByText("The passkey was not accepted")).toBeVisible();
});

test("a cloned authenticator (its signature counter gone back) is refused", async ({ page }) => {
  const first = await authenticator(page);
  const email = await signUp(page);
  await addPasskey(page, "Phone");
  await page.goto("/");
  await signOut(page);
  await withPasskey(page);
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  const [credential] = (await first.cdp.send("WebAuthn.getCredentials", { authenticatorId: first.id })).credentials;
  expect(credential.signCount).toBeGreaterThan(0);

  // The same key on another device whose counter starts again from zero.
  await first.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: first.id });
  const clone = await authenticator(page);
  await clone.cdp.send("WebAuthn.addCredential", {
    authenticatorId: clone.id,
    credential: { ...credential, signCount: 0 },
  });
  await signOut(page);
  await withPasskey(page);
  await expect(page.getByText("The passkey was not accepted")).toBeVisible();
  await page.goto("/account");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a passkey confirms an action held back for a session that has not proved its user lately", async ({ page }) => {
  await authenticator(page);
  const email = await signUp(page);
  await addPasskey(page, "Laptop");
  await signInThroughResetLink(page, email, "a brand new long passphrase");

  await page.goto("/connections/new");
  await page.waitForLoadState("networkidle");
  await page.getByLabel("Name").fill("Confirmed by passkey");
  await page.getByRole("button", { name: "Create connection" }).click();
  const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
  // The account has a passkey: that is what it is asked for, not the password.
  await dialog.getByRole("button", { name: "Confirm with a passkey" }).click();
  await expect(page.getByRole("heading", { name: "Confirmed by passkey", level: 1 })).toBeVisible();
  await expect(dialog).toHaveCount(0);
});
