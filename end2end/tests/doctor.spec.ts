import { mkdirSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { file } from "./files";
import { copy, readAll, signUp, verifiedConnection, world } from "./helpers";

// What the role may do: upload and read, and read and replace a bucket's CORS rules; it may not
// list the account's buckets, so the one this test makes is added by name.
const permissions = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: [
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:PutObject",
        "s3:GetBucketCORS",
        "s3:PutBucketCORS",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
      ],
      Resource: "*",
    },
  ],
});

test("the doctor finds the CORS rule a failed upload lacked, and its one-click fix makes the upload work", async ({
  page,
}) => {
  await signUp(page);
  const bucket = `doctor-e2e-${Date.now() % 1e9}`;
  world("bucket", "--name", bucket); // one object, no CORS rule
  const id = await verifiedConnection(page, "Doctor", permissions);
  await page.goto(`/c/${id}`);
  await page.getByLabel("Add a bucket by name").fill(bucket);
  await page.getByRole("button", { name: "Add bucket" }).click();

  // Without a CORS rule the browser cannot reach the bucket: the upload fails.
  await page.goto(`/c/${id}/${bucket}`);
  await expect(page.getByRole("heading", { name: bucket, level: 1 })).toBeVisible();
  await page.getByLabel("Upload files").setInputFiles(file("before fix.txt", 100));
  const before = page.locator("li.upload").filter({ hasText: "before fix.txt" });
  await expect(before).toHaveAttribute("data-state", "failed");
  await expect(page.getByText("The browser could not reach the bucket.")).toBeVisible();

  // The doctor says why, and what would change.
  await page.goto(`/connections/${id}/doctor`);
  await page.getByRole("button", { name: "Check now" }).click();
  await expect(page.getByText("Checked: the report below is this run's.")).toBeVisible();
  const finding = page.locator('li.finding[data-code="cors_missing"]');
  await expect(finding).toContainText(`Uploads and previews in ${bucket} fail in the browser`);
  const row = page.locator("table.doctor-buckets tr").filter({ hasText: bucket });
  await expect(row.getByText("Fails").first()).toBeVisible();
  await expect(async () => {
    await finding.getByRole("button", { name: "Fix the CORS rule…" }).click();
    await expect(finding.getByRole("region", { name: "The CORS change" })).toBeVisible({ timeout: 1000 });
  }).toPass();
  const change = finding.getByRole("region", { name: "The CORS change" });
  await expect(change.locator("div").filter({ hasText: "After" })).toContainText('"ExposeHeaders"');
  await expect(change.locator("div").filter({ hasText: "After" })).toContainText("http://127.0.0.1:3000");
  await finding.getByRole("button", { name: "Apply this CORS configuration" }).click();
  await expect(page.getByText("The bucket's CORS rules now admit Crossview")).toBeVisible();
  await expect(page.locator('li.finding[data-code="cors_missing"]')).toHaveCount(0);

  // The same upload now reaches S3.
  await page.goto(`/c/${id}/${bucket}`);
  await page.getByLabel("Upload files").setInputFiles(file("after fix.txt", 100));
  await expect(page.locator("li.upload").filter({ hasText: "after fix.txt" })).toHaveAttribute("data-state", "done");
  // The one that failed left nothing behind; the one after the fix is there.
  const keys = world("keys", "--bucket", bucket);
  expect(keys).toContain("after fix.txt");
  expect(keys).not.toContain("before fix.txt");
});

test("the connection page's Terraform and CloudFormation are what an organisation applies (checked by scripts/iac_check.py)", async ({
  page,
}) => {
  await signUp(page);
  await page.goto("/");
  await page.getByRole("link", { name: "New connection" }).click();
  await page.getByLabel("Name").fill("Infrastructure as code");
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByRole("heading", { name: "Infrastructure as code", level: 1 })).toBeVisible();
  const externalId = await copy(page, "Copy ExternalId");
  const principal = await copy(page, "Copy principal ARN");
  await page.locator("summary").filter({ hasText: /^Terraform$/ }).click();
  const snippet = await copy(page, "Copy Terraform");
  expect(snippet).toContain(`external_id             = "${externalId}"`);
  const href = (await page.getByRole("link", { name: "Download the CloudFormation template" }).getAttribute("href"))!;
  const template = decodeURIComponent(href.slice(href.indexOf(",") + 1));
  expect(JSON.parse(template).Parameters.ExternalId.Default).toBe(externalId);

  // As copied, for scripts/test.sh to parse (python-hcl2) and scan (checkov, cfn-lint).
  const dir = `${process.cwd()}/../.data/iac`;
  mkdirSync(`${dir}/snippet`, { recursive: true });
  writeFileSync(`${dir}/snippet/main.tf`, snippet);
  writeFileSync(`${dir}/template.json`, template);
  writeFileSync(
    `${dir}/connection.json`,
    JSON.stringify({ external_id: externalId, principal_arn: principal, access: "read-write" }),
  );
});

test("an ExternalId is rotated without downtime: both admitted, the new one verified, the old one retired", async ({
  page,
}) => {
  await signUp(page);
  const id = await verifiedConnection(page, "Rotating", "read-only");
  const roleArn = (await page.locator("dt:has-text('Role ARN') + dd code").textContent())!.trim();
  const roleName = roleArn.split("/").pop()!;
  const old = (await page.locator("dt:has-text('ExternalId') + dd code").first().textContent())!.trim();

  const rotation = page.getByRole("region", { name: "ExternalId rotation" });
  await rotation.getByRole("button", { name: "Start rotating" }).click();
  const next = (await page.locator("code.next-external-id").textContent())!.trim();
  expect(next).not.toBe(old);
  const both = await copy(page, "Copy trust policy with both IDs");
  expect(JSON.parse(both).Statement[0].Condition.StringEquals["sts:ExternalId"]).toEqual([next, old]);

  // Before the role admits the new ID, nothing switches and the page says why.
  await page.getByRole("button", { name: "Verify the new ExternalId and switch" }).click();
  await expect(page.getByText("does not admit the new ExternalId yet")).toBeVisible();

  // The owner puts the policy on the role, as copied; Crossview verifies and switches.
  world("role", "--name", roleName, "--trust-policy", both);
  await page.getByRole("button", { name: "Verify the new ExternalId and switch" }).click();
  await expect(page.locator("dt:has-text('ExternalId') + dd code").first()).toHaveText(next);
  await expect(rotation).toContainText(`Remove the old one, ${old}`);

  // The doctor flags the old one while the role admits it.
  await page.goto(`/connections/${id}/doctor`);
  await page.getByRole("button", { name: "Check now" }).click();
  await expect(page.locator('li.finding[data-code="retired_external_id_admitted"]')).toContainText(old);
});

test("many accounts are connected at once, each with its own ExternalId, and verified together", async ({ page }) => {
  await signUp(page);
  await page.getByRole("link", { name: "Connect many accounts" }).click();
  // The stand-in is one account: two roles in it stand for two accounts.
  const stamp = `${Date.now() % 1e9}`;
  const names = [`bulk-a-${stamp}`, `bulk-b-${stamp}`];
  await page.getByLabel(/^Accounts/).fill(names.map((n) => `123456789012 ${n}`).join("\n"));
  await page.getByRole("button", { name: "Create the connections" }).click();
  const rows = page.locator("table.bulk tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(page.getByText("0 of 2 verified")).toBeVisible();
  const script = await copy(page, "Copy StackSet commands");
  const ids: string[] = [];
  for (const [i, name] of names.entries()) {
    const externalId = (await rows.nth(i).locator("td").nth(2).textContent())!.trim();
    expect(script).toContain(`ParameterValue=${externalId} ParameterKey=RoleName,ParameterValue=${name}`);
    ids.push(externalId);
    // The StackSet's instance in that account, as it would create the role.
    world("role", "--name", name, "--external-id", externalId, "--permissions", readAll);
  }
  expect(new Set(ids).size).toBe(2);
  await page.getByRole("button", { name: "Verify all" }).click();
  await expect(page.getByText("Verified 2 of the batch's connections")).toBeVisible();
  await expect(page.getByText("2 of 2 verified")).toBeVisible();
});
