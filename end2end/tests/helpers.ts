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
 * Signs in through a one-time link from `server admin reset EMAIL` (as the operator runs it),
 * setting `newPassword`: a session that has proved nothing yet (step-up asks first).
 */
export async function signInThroughResetLink(page: Page, email: string, newPassword: string) {
  const server = `${process.env.CARGO_TARGET_DIR ?? "../target"}/release/server`;
  const out = execFileSync(server, ["admin", "reset", email], { encoding: "utf8", env: { ...process.env, PUBLIC_URL: "" } });
  await page.goto(out.split("\n")[0].trim());
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password").fill(newPassword);
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page).toHaveURL(/\/account\?reset=1$/);
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

/** Lists and reads every bucket the stand-in seeds (scripts/aws_world.py --browse). */
export const readAll = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject", "s3:GetObjectTagging"],
      Resource: "*",
    },
  ],
});

/** The permission policies the connection page offers, copied from it as a customer would. */
export type SuggestedPolicy = "read-only" | "read-write";

/**
 * A new connection, named `name`, verified against a role with `permissions` (a policy document,
 * or one of the page's own suggestions); its page is open. Returns the connection's id.
 */
export async function verifiedConnection(
  page: Page,
  name: string,
  permissions: string | SuggestedPolicy,
  access: "read-write" | "read-only" = "read-write",
): Promise<string> {
  await page.goto("/");
  await page.getByRole("link", { name: "New connection" }).click();
  await page.getByLabel("Name").fill(name);
  if (access === "read-only") await page.getByRole("radio", { name: /^Read only/ }).check();
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  const trust = await copy(page, "Copy trust policy");
  if (permissions === "read-only" || permissions === "read-write") {
    const title = permissions === "read-only" ? "Read-only permissions" : "Read-write permissions";
    await page.getByText(title).click();
    permissions = await copy(page, `Copy ${permissions} policy`);
  }
  const arn = createRoleInStandIn(`e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, trust, permissions);
  await page.getByLabel("Role ARN").fill(arn);
  await page.getByRole("button", { name: "Save and verify" }).click();
  await expect(page.getByText("Verified", { exact: true })).toBeVisible();
  return new URL(page.url()).pathname.split("/").pop()!;
}

/** Runs scripts/aws_world.py with the stand-in's admin key (the bucket owner's side). */
export function world(...args: string[]): string {
  return execFileSync("python3", ["../scripts/aws_world.py", ...args], { encoding: "utf8" }).trim();
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

/**
 * The words the browser broke across lines inside the tables (and definition lists) of the page:
 * each word of each text node measured as a range; a word drawn on more than one line is broken.
 * Cut names (an ellipsis on one line) are not broken. Identifiers shown as code (ARNs, keys,
 * ExternalIds, ETags) may wrap at any character, as they must to fit a phone: they are skipped.
 */
export async function brokenWords(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const broken: string[] = [];
    for (const root of document.querySelectorAll("main table, main dl")) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
        acceptNode: (n) => (n.parentElement?.closest("code") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
      });
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent ?? "";
        for (const match of text.matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index!);
          range.setEnd(node, match.index! + match[0].length);
          const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
          if (lines.size > 1) broken.push(match[0]);
        }
      }
    }
    return broken;
  });
}

/** `server admin grant EMAIL`, as the operator runs it, against the suite's database. */
export function grantAdmin(email: string) {
  const server = `${process.env.CARGO_TARGET_DIR ?? "../target"}/release/server`;
  execFileSync(server, ["admin", "grant", email], { encoding: "utf8" });
}

export async function signIn(page: Page, email: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();
}

/** A new account made an administrator, signed in again (new rights come with a fresh sign-in). */
export async function signedInAdmin(page: Page): Promise<string> {
  const email = await signUp(page);
  grantAdmin(email);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await signIn(page, email);
  await expect(page.getByRole("link", { name: "Admin" })).toBeVisible();
  return email;
}
