import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { file } from "./files";
import { signUp, verifiedConnection, world } from "./helpers";

// An owner restricts a connection to two folders and grants one of them to a teammate, who works
// in it from another browser (context) with an account of their own, against the strict
// stand-in: every request they make is fenced to the granted folder by its session policy.
const bucket = "cv-transfers";
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

test.beforeEach(async ({ context }) => {
  // The owner copies the trust policy from the connection page, as a person would.
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
});

test("an owner scopes a connection and grants a folder; the teammate works inside it only", async ({ page, browser }) => {
  const run = `grants-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const granted = `${run}/reports/2026/`;
  const sibling = `${run}/reports/2025/`;
  world("put", "--bucket", bucket, "--key", `${granted}q1.csv`, "--body", "quarter,total\nq1,10\n");
  world("put", "--bucket", bucket, "--key", `${sibling}old.csv`, "--body", "old\n");

  // The teammate has an account (a grant to an address without one waits for it, the same way).
  const teammate = await browser.newContext();
  const dana = await teammate.newPage();
  const danaEmail = await signUp(dana);

  // The owner connects, then adds the two locations and grants one.
  await signUp(page);
  const id = await verifiedConnection(page, "Finance", "read-write");
  const locations = page.locator("#locations");
  for (const prefix of [granted, sibling]) {
    await locations.getByLabel("Bucket").fill(bucket);
    await locations.getByLabel("Folder (optional)").fill(prefix);
    await locations.getByRole("button", { name: "Add location" }).click();
    await expect(locations.getByRole("link", { name: `s3://${bucket}/${prefix}` })).toBeVisible();
  }
  await locations.getByLabel("Location", { exact: true }).selectOption({ label: `s3://${bucket}/${granted} (read-write)` });
  await locations.getByLabel("Teammate's email").fill(danaEmail);
  await locations.getByLabel("Access", { exact: true }).last().selectOption("write");
  await locations.getByRole("button", { name: "Invite", exact: true }).click();
  await expect(locations.getByText(danaEmail)).toBeVisible();
  await expect(locations.locator("li.grant", { hasText: danaEmail })).toContainText("invited, not accepted yet");

  // The owner's bucket page now lists the locations, not the account's buckets.
  await page.goto(`/c/${id}`);
  await expect(page.getByRole("heading", { name: "Locations", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: `s3://${bucket}/${granted}` })).toBeVisible();

  // Dana sees an invitation, and nothing shared until she accepts it.
  await dana.goto("/");
  const invitations = dana.locator("section.invitations");
  await expect(invitations).toContainText(`s3://${bucket}/${granted}`);
  await expect(dana.locator("section.shared-with-me")).toHaveCount(0);
  await invitations.getByRole("button", { name: "Accept" }).click();
  await expect(dana.locator("section.invitations")).toHaveCount(0);

  // Then it is under "Shared with me": she opens it, and never sees the role.
  const shared = dana.locator("section.shared-with-me");
  await expect(shared.getByText("Finance")).toBeVisible();
  await expect(shared.getByRole("link", { name: `s3://${bucket}/${sibling}` })).toHaveCount(0);
  await shared.getByRole("link", { name: `s3://${bucket}/${granted}` }).click();
  await expect(dana.getByRole("heading", { name: "2026", level: 1 })).toBeVisible();
  await expect(dana.getByRole("link", { name: "q1.csv", exact: true })).toBeVisible();
  await expect(dana.locator(".location-note")).toContainText("shared with you");
  expect(await dana.content()).not.toContain(":role/");

  // She uploads inside it: the bytes go to S3 under her grant.
  const upload = file("from dana ✓.txt", 4321);
  await dana.getByLabel("Upload files").setInputFiles(upload);
  await expect(dana.locator("li.upload")).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  expect(world("keys", "--bucket", bucket, "--prefix", granted).split("\n")).toContain(`${granted}from dana ✓.txt`);

  // And downloads from it, byte for byte.
  await dana.getByRole("link", { name: "from dana ✓.txt", exact: true }).click();
  const [download] = await Promise.all([dana.waitForEvent("download"), dana.getByRole("link", { name: "Download" }).click()]);
  expect(sha256(readFileSync(await download.path()))).toBe(sha256(readFileSync(upload)));

  // Outside it, by URL: the parent, the sibling, the bucket. Each is refused with a message.
  for (const path of [`${run}/reports/`, sibling, ""]) {
    await dana.goto(path === "" ? `/c/${id}/${bucket}` : `/c/${id}/${bucket}/${path}`);
    await expect(dana.getByText("outside the locations you may use")).toBeVisible();
    await expect(dana.getByRole("link", { name: "old.csv" })).toHaveCount(0);
  }
  // The owner's page of the connection does not exist for her.
  await dana.goto(`/connections/${id}`);
  await expect(dana.getByText("does not exist")).toBeVisible();

  // The owner revokes the grant: her next request is refused.
  await page.goto(`/connections/${id}`);
  await page.getByRole("button", { name: `Revoke ${danaEmail}'s grant` }).click();
  await expect(page.locator("#locations").getByText(danaEmail)).toHaveCount(0);
  await dana.goto(`/c/${id}/${bucket}/${granted}`);
  await expect(dana.getByText("does not exist")).toBeVisible();
  await teammate.close();
});
