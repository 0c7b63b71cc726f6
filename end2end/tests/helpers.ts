import { execFileSync } from "node:child_process";
import { expect, type Page } from "@playwright/test";

export const password = "a long enough passphrase";

/** A fresh account, signed in. Unique per call, so runs never collide. */
export async function signUp(page: Page): Promise<string> {
  const email = `person-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  return email;
}

/**
 * Creates a role in the AWS stand-in with exactly the given trust policy, as its owner would in
 * the IAM console (scripts/aws_world.py, with the stand-in's admin key from scripts/test.sh).
 */
export function createRoleInStandIn(name: string, trustPolicy: string, permissions?: string): string {
  const args = ["../scripts/aws_world.py", "role", "--name", name, "--trust-policy", trustPolicy];
  if (permissions) args.push("--permissions", permissions);
  return execFileSync("python3", args, { encoding: "utf8" }).trim();
}

/** A new connection, named `name`, verified against a role with `permissions`; its page is open. */
export async function verifiedConnection(page: Page, name: string, permissions: string): Promise<void> {
  await page.goto("/");
  await page.getByRole("link", { name: "New connection" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  const trust = await copy(page, "Copy trust policy");
  const arn = createRoleInStandIn(`e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, trust, permissions);
  await page.getByLabel("Role ARN").fill(arn);
  await page.getByRole("button", { name: "Save and verify" }).click();
  await expect(page.getByText("Verified", { exact: true })).toBeVisible();
}

/** Clicks a copy button until hydration has made it work, then returns what it copied. */
export async function copy(page: Page, label: string): Promise<string> {
  const button = page.getByRole("button", { name: label });
  await expect(async () => {
    await button.click();
    await expect(button).toHaveText("Copied", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  return page.evaluate(() => navigator.clipboard.readText());
}
