import { expect, test } from "@playwright/test";
import { readAll, signedInAdmin, verifiedConnection } from "../tests/helpers";

// The README's screenshots (scripts/bench.sh --screenshots): the folder page at 1280 and 390 px
// and the audit trail, written to end2end/screenshots/.

test("screenshots for the README", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 800 });
  const email = await signedInAdmin(page);
  const id = await verifiedConnection(page, "Production data", readAll);
  await page.goto(`/c/${id}/cv-big`);
  await expect(page.locator("table.listing tbody tr")).toHaveCount(100);
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: "screenshots/folder-1280.png" });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.locator("table.listing tbody tr")).toHaveCount(100);
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: "screenshots/folder-390.png" });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`/admin/audit?actor=${encodeURIComponent(email)}`);
  await expect(page.locator("table.audit tbody tr").first()).toBeVisible();
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: "screenshots/audit-1280.png" });
});
