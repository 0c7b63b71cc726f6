import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";

import { password, signedInAdmin, signIn, signUp, verifiedConnection } from "./helpers";

/** `count` listings of the connection's buckets, as the hydrated app asks for them. */
async function browseTimes(page: Page, connection: string, count: number) {
  for (let i = 0; i < count; i++) {
    const answer = await page.request.post("/api/buckets", {
      form: { connection },
      headers: { origin: new URL(page.url()).origin, accept: "application/json" },
    });
    expect(answer.status()).toBe(200);
  }
}

test("an auditor searches, pages, exports and checks the trail, and acts on users and connections", async ({ browser, baseURL }, testInfo) => {
  test.setTimeout(180_000);
  const auditorContext = await browser.newContext({ baseURL });
  const auditor = await auditorContext.newPage();
  const auditorEmail = await signedInAdmin(auditor);

  // Someone else works: a verified connection, 55 listings.
  const userContext = await browser.newContext({ baseURL, permissions: ["clipboard-read", "clipboard-write"] });
  const user = await userContext.newPage();
  const userEmail = await signUp(user);
  const connection = await verifiedConnection(user, "Payroll archive", "read-only");
  await browseTimes(user, connection, 55);

  // The trail, filtered by that user: a full page, and the next one by its URL.
  await auditor.goto("/admin/audit");
  await auditor.getByLabel("Actor's email").fill(userEmail);
  await auditor.getByLabel("Action").selectOption("bucket.list");
  await auditor.getByRole("button", { name: "Search" }).click();
  await expect(auditor).toHaveURL(/actor=.*action=bucket.list/);
  const rows = auditor.locator("table.audit tbody tr");
  await expect(rows).toHaveCount(50);
  await auditor.getByRole("link", { name: "Older" }).click();
  await expect(auditor).toHaveURL(/before=\d+-\d+/);
  await expect(rows).toHaveCount(5);
  // The URL is the search: another admin opening it sees the same rows.
  const shared = auditor.url();
  const second = await auditorContext.newPage();
  await second.goto(shared);
  await expect(second.locator("table.audit tbody tr")).toHaveCount(5);
  await expect(second.getByLabel("Actor's email")).toHaveValue(userEmail);
  await second.close();
  // Refused so far: only verification's two probes, which AWS must refuse (wrong or no ExternalId).
  await auditor.goto(`/admin/audit?actor=${encodeURIComponent(userEmail)}&outcome=refused`);
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("connection.verify_without_external_id");
  await expect(rows.nth(1)).toContainText("connection.verify_wrong_external_id");
  await auditor.goto(`/admin/audit?actor=${encodeURIComponent(userEmail)}&outcome=failed`);
  await expect(auditor.getByText("No audit rows match.")).toBeVisible();

  // Export: the file holds every matching row, with hashes.
  await auditor.goto(`/admin/audit?actor=${encodeURIComponent(userEmail)}&action=bucket.list`);
  await auditor.waitForLoadState("networkidle");
  const download = auditor.waitForEvent("download");
  await auditor.getByRole("link", { name: "CSV" }).click();
  const file = await (await download).path();
  const lines = readFileSync(file!, "utf8").trim().split("\n");
  expect(lines[0]).toContain("prev_hash,hash");
  expect(lines).toHaveLength(56);
  expect(lines[1]).toContain(userEmail);
  await expect(auditor.getByText("Saved: 55 rows")).toBeVisible();

  // The chain holds.
  await auditor.goto("/admin");
  await auditor.waitForLoadState("networkidle");
  await auditor.getByRole("button", { name: "Check the chain" }).click();
  await expect(auditor.getByText(/The chain holds: \d+ rows/)).toBeVisible();

  // Connections: the user's, with its use from the trail; re-check; disable and enable.
  await auditor.goto(`/admin/connections?owner=${encodeURIComponent(userEmail)}`);
  const row = auditor.locator("tbody tr", { hasText: "Payroll archive" });
  await expect(row).toContainText("Verified");
  await expect(row.locator("td").nth(9)).toHaveText(/^(5[89]|6\d)$/); // 55 listings + the verification
  // The doctor ran after the verification: its status and time are in the overview.
  await expect(row.locator("td.checkup")).toContainText(/No problems|\d problems?|Could not check/);
  await expect(row.locator("td.checkup")).toContainText("UTC");
  await row.getByRole("link", { name: "Payroll archive" }).click();
  await auditor.getByRole("button", { name: "Re-check" }).click();
  await expect(auditor.getByText("Re-checked")).toBeVisible();
  await expect(auditor.locator("table.audit tbody tr").first()).toContainText("connection.recheck");
  await auditor.getByRole("button", { name: "Disable connection" }).click();
  await expect(auditor.locator(".facts").first()).toContainText("Disabled by an administrator");
  await user.goto(`/c/${connection}`);
  await expect(user.getByRole("alert")).toContainText("An administrator disabled this connection");
  await auditor.getByRole("button", { name: "Enable connection" }).click();
  await expect(auditor.locator(".facts").first()).toContainText("Verified");
  await user.goto(`/c/${connection}`);
  await expect(user.getByRole("alert")).toHaveCount(0);

  // Users: find them, disable (signed out at once), enable, promote, demote.
  await auditor.goto("/admin/users");
  await auditor.getByLabel("Email contains").fill(userEmail);
  await auditor.getByRole("button", { name: "Search" }).click();
  await auditor.locator("tbody").getByRole("link", { name: userEmail }).click();
  await expect(auditor.getByRole("heading", { name: userEmail })).toBeVisible();
  await expect(auditor.getByRole("link", { name: "Payroll archive" })).toBeVisible();
  await auditor.getByRole("button", { name: "Disable user" }).click();
  await expect(auditor.locator(".facts").first()).toContainText("Disabled");
  await user.goto("/");
  await expect(user).toHaveURL(/\/sign-in/);
  await user.getByLabel("Email").fill(userEmail);
  await user.getByLabel("Password").fill(password);
  await user.getByRole("button", { name: "Sign in" }).click();
  await expect(user.getByRole("alert")).toContainText("This account is disabled");
  await auditor.getByRole("button", { name: "Enable user" }).click();
  await auditor.getByRole("button", { name: "Make admin" }).click();
  await expect(auditor.locator(".facts").first()).toContainText("Admin");
  await signIn(user, userEmail);
  await expect(user.getByRole("link", { name: "Admin" })).toBeVisible();
  await auditor.getByRole("button", { name: "Remove admin" }).click();
  await expect(auditor.getByRole("button", { name: "Make admin" })).toBeVisible();

  // The last active administrator: every other admin demoted, the auditor cannot leave.
  await auditor.goto("/admin/users");
  for (;;) {
    const other = auditor.locator("tbody tr", { hasText: "Admin" }).filter({ hasNotText: auditorEmail }).first();
    if ((await other.count()) === 0) break;
    await other.getByRole("link").first().click();
    await auditor.getByRole("button", { name: "Remove admin" }).click();
    await expect(auditor.getByRole("button", { name: "Make admin" })).toBeVisible();
    await auditor.goto("/admin/users");
  }
  await auditor.locator("tbody").getByRole("link", { name: auditorEmail }).click();
  await auditor.getByRole("button", { name: "Remove admin" }).click();
  await expect(auditor.getByRole("alert")).toContainText("At least one administrator must remain");
  // A step-up form is sent once the page has checked the session (a round trip): wait for it.
  const disabling = auditor.waitForResponse((r) => r.url().includes("/api/admin_set_user_disabled"));
  await auditor.getByRole("button", { name: "Disable user" }).click();
  await disabling;
  await expect(auditor.getByRole("alert")).toContainText("At least one administrator must remain");

  // Each action above is in the trail, with the auditor as actor.
  await auditor.goto(`/admin/audit?actor=${encodeURIComponent(auditorEmail)}`);
  for (const action of ["user.disable", "user.enable", "admin.grant", "admin.revoke", "connection.disable", "connection.enable", "audit.export", "audit.verify"]) {
    await expect(auditor.locator("table.audit tbody tr", { hasText: action }).first()).toBeVisible();
  }

  // A phone-width screen: the console stays usable (no sideways scrolling of the page).
  await auditor.setViewportSize({ width: 390, height: 844 });
  for (const path of ["/admin", "/admin/users", "/admin/connections", "/admin/audit"]) {
    await auditor.goto(path);
    await auditor.waitForLoadState("networkidle");
    const overflow = await auditor.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(1);
  }
  await auditor.goto("/admin/audit");
  await auditor.waitForLoadState("networkidle");
  await auditor.screenshot({ path: testInfo.outputPath("admin-audit-phone.png") });
  await testInfo.attach("admin-audit-phone", { path: testInfo.outputPath("admin-audit-phone.png"), contentType: "image/png" });

  await userContext.close();
  await auditorContext.close();
});

test("a search link shows its filters before the page's code runs, and what is typed meanwhile stays", async ({ browser, baseURL, page }) => {
  await signedInAdmin(page);
  const search = "/admin/audit?actor=someone%40example.com&bucket=reports";

  // Without JavaScript (or before the wasm arrives) the form already holds the URL's filters.
  const plain = await browser.newContext({ baseURL, javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plainPage = await plain.newPage();
  await plainPage.goto(search);
  await expect(plainPage.getByLabel("Actor's email")).toHaveValue("someone@example.com");
  await expect(plainPage.getByRole("searchbox", { name: "Bucket" })).toHaveValue("reports");
  await plain.close();

  // The wasm arrives late, as on a slow network: text typed before hydration is not replaced.
  await page.route(/\/pkg\/crossview\.[\w-]+\.wasm$/, async (route) => {
    await new Promise((done) => setTimeout(done, 3000));
    await route.continue();
  });
  const wasm = page.waitForResponse(/\/pkg\/crossview\.[\w-]+\.wasm$/);
  await page.goto(search, { waitUntil: "domcontentloaded" });
  await page.getByLabel("Actor's email").fill("typed@example.com");
  await wasm;
  await page.waitForLoadState("networkidle");
  await expect(page.getByLabel("Actor's email")).toHaveValue("typed@example.com");
  await expect(page.getByRole("searchbox", { name: "Bucket" })).toHaveValue("reports");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/actor=typed%40example\.com&.*bucket=reports/);
});

test("an administrator hands a user a one-time reset link, which sets a new password once", async ({ browser, page }) => {
  const forgetful = await browser.newContext();
  const user = await forgetful.newPage();
  const email = await signUp(user);
  await signedInAdmin(page);
  await page.goto(`/admin/users?email=${encodeURIComponent(email)}`);
  await page.getByRole("link", { name: email }).click();
  await page.getByRole("button", { name: "Issue a password reset link" }).click();
  const link = (await page.locator("code.reset-url").textContent())!;
  expect(link).toMatch(/\/reset\/[0-9a-f]{64}$/);

  // Whoever holds it sets the password; the user's old session ends.
  const holder = await browser.newContext();
  const opened = await holder.newPage();
  await opened.goto(link);
  await expect(opened.getByText(email)).toBeVisible();
  const fresh = "another long passphrase, fresh";
  await opened.getByLabel("New password", { exact: true }).fill(fresh);
  await opened.getByLabel("Confirm new password").fill(fresh);
  await opened.getByRole("button", { name: "Set password" }).click();
  await expect(opened).toHaveURL(/\/account\?reset=1$/);
  await user.goto("/");
  await expect(user).toHaveURL(/\/sign-in/);

  // Once only.
  const again = await (await browser.newContext()).newPage();
  await again.goto(link);
  await expect(again.getByText("This reset link does not work")).toBeVisible();
  await forgetful.close();
  await holder.close();
});
