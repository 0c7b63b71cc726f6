import { expect, test } from "@playwright/test";
import { copy, createRoleInStandIn, signUp } from "./helpers";

test.beforeEach(async ({ context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
});

async function newConnection(page: import("@playwright/test").Page, name: string) {
  await page.goto("/");
  await page.getByRole("link", { name: "New connection" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.getByText("Pending", { exact: true })).toBeVisible();
}

test("connect an account: copy the trust policy, create the role, paste its ARN, verify", async ({ page }, testInfo) => {
  await signUp(page);
  await newConnection(page, "Playwright account");

  const trust = await copy(page, "Copy trust policy");
  const statement = JSON.parse(trust).Statement[0];
  const externalId = statement.Condition.StringEquals["sts:ExternalId"];
  expect(externalId).toMatch(/^[A-Za-z0-9]{40}$/);
  expect(await copy(page, "Copy ExternalId")).toBe(externalId);
  expect(statement.Principal.AWS).toBe(await copy(page, "Copy principal ARN"));

  const arn = createRoleInStandIn(`e2e-right-${Date.now()}`, trust);
  await page.getByLabel("Role ARN").fill(arn);
  await page.getByRole("button", { name: "Save and verify" }).click();

  await expect(page.getByText("Verified", { exact: true })).toBeVisible();
  await expect(page.getByRole("alert")).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("verified.png"), fullPage: true });

  await page.getByRole("link", { name: "Connections" }).click();
  const row = page.getByRole("row", { name: /Playwright account/ });
  await expect(row).toContainText("Verified");
  await expect(row).toContainText("123456789012");
});

test("a role that trusts another ExternalId is refused with a clear message", async ({ page }) => {
  await signUp(page);
  await newConnection(page, "Wrong ID");
  const trust = JSON.parse(await copy(page, "Copy trust policy"));
  trust.Statement[0].Condition.StringEquals["sts:ExternalId"] = "SomebodyElsesExternalId0123456789";
  const arn = createRoleInStandIn(`e2e-wrong-${Date.now()}`, JSON.stringify(trust));

  await page.getByLabel("Role ARN").fill(arn);
  await page.getByRole("button", { name: "Save and verify" }).click();
  await expect(page.getByText("Failed", { exact: true })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("AWS refused to let Crossview assume the role");
  await expect(page.getByRole("alert")).toContainText("the ExternalId does not match");
});

test("a malformed ARN gets its own message and loses nothing", async ({ page }) => {
  await signUp(page);
  await newConnection(page, "Typo");
  await page.getByLabel("Role ARN").fill("arn:aws:iam::12345:role/crossview-access");
  await page.getByRole("button", { name: "Save and verify" }).click();
  await expect(page.getByRole("alert")).toHaveText("The account in the ARN must be exactly 12 digits.");
  await expect(page.getByLabel("Role ARN")).toHaveValue("arn:aws:iam::12345:role/crossview-access");
  await expect(page.getByText("Pending", { exact: true })).toBeVisible();
});
