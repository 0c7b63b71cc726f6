import { expect, test, type Page } from "@playwright/test";
import { signUp, verifiedConnection } from "./helpers";

// The buckets scripts/aws_world.py --browse seeds in the strict stand-in.
const readAll = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject", "s3:GetObjectTagging"],
      Resource: "*",
    },
  ],
});

test.beforeEach(async ({ context, page }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  // Keys like `<script>alert(1)</script>` must stay text: any dialog is a failure.
  page.on("dialog", (dialog) => {
    throw new Error(`a dialog opened: ${dialog.message()}`);
  });
});

const listing = (page: Page) => page.locator("table.listing");
const entry = (page: Page, name: string) => listing(page).getByRole("link", { name, exact: true });

async function openBucket(page: Page, bucket: string) {
  await page.getByRole("link", { name: "Browse buckets" }).click();
  await expect(page.getByRole("heading", { name: "Buckets", level: 1 })).toBeVisible();
  await entry(page, bucket).click();
  await expect(page.getByRole("heading", { name: bucket, level: 1 })).toBeVisible();
}

test("walk down three folders, back up by breadcrumb, open an object's details", async ({ page }) => {
  await signUp(page);
  await verifiedConnection(page, "Browsing", readAll);
  await openBucket(page, "cv-mixed");

  for (const folder of ["walk", "one", "two"]) {
    await entry(page, `${folder}/`).click();
    await expect(page.getByRole("heading", { name: folder, level: 1 })).toBeVisible();
  }
  await expect(page).toHaveURL(/\/cv-mixed\/walk\/one\/two\/$/);
  const crumbs = page.getByRole("navigation", { name: "Location" });
  await expect(crumbs.getByRole("link")).toHaveText(["Connections", "Browsing", "cv-mixed", "walk", "one", "two"]);

  await crumbs.getByRole("link", { name: "walk" }).click();
  await expect(page.getByRole("heading", { name: "walk", level: 1 })).toBeVisible();
  await expect(entry(page, "one/")).toBeVisible();
  await page.goBack();
  await expect(page.getByRole("heading", { name: "two", level: 1 })).toBeVisible();

  await entry(page, "three/").click();
  await entry(page, "report.csv").click();
  await expect(page.getByRole("heading", { name: "report.csv", level: 1 })).toBeVisible();
  const details = page.locator("table.details").first();
  await expect(details).toContainText("text/csv");
  await expect(details).toContainText("SSE-S3 (AES256)");
  await expect(details).toContainText("s3://cv-mixed/walk/one/two/three/report.csv");
  await expect(page.getByRole("row", { name: /team/ })).toContainText("finance");

  // Backspace goes back to the folder, by keyboard.
  await page.keyboard.press("Backspace");
  await expect(page.getByRole("heading", { name: "three", level: 1 })).toBeVisible();
});

test("page forward and back through 2,500 keys, then filter by prefix", async ({ page }) => {
  await signUp(page);
  await verifiedConnection(page, "Big bucket", readAll);
  await openBucket(page, "cv-big");
  const rows = listing(page).locator("tbody tr");
  await expect(rows).toHaveCount(1000);
  await expect(rows.first()).toContainText("key-00000.txt");

  const pager = page.getByRole("navigation", { name: "Pages" });
  await pager.getByRole("link", { name: "Next →" }).click();
  await expect(pager).toContainText("Page 2");
  await expect(rows.first()).toContainText("key-01000.txt");
  await pager.getByRole("link", { name: "Next →" }).click();
  await expect(pager).toContainText("Page 3");
  await expect(rows).toHaveCount(500);
  await expect(pager.getByRole("link", { name: "Next →" })).toHaveCount(0);

  await pager.getByRole("link", { name: "← Previous" }).click();
  await expect(pager).toContainText("Page 2");
  await expect(rows.first()).toContainText("key-01000.txt");
  // Every page has its own URL: a reload stays on page 2, the browser's back returns to page 3.
  await page.reload();
  await expect(rows.first()).toContainText("key-01000.txt");
  await page.goBack();
  await expect(pager).toContainText("Page 3");
  await expect(rows).toHaveCount(500);
  await page.goForward();
  await expect(pager).toContainText("Page 2");
  await pager.getByRole("link", { name: "← Previous" }).click();
  await expect(pager).toContainText("Page 1");
  await expect(rows.first()).toContainText("key-00000.txt");

  await page.getByLabel("Filter by prefix").fill("key-024");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/filter=key-024/);
  await expect(rows).toHaveCount(100);
  await expect(rows.last()).toContainText("key-02499.txt");

  // The keyboard moves through the entries and Enter opens one.
  await page.locator("body").click();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "key-02401.txt", level: 1 })).toBeVisible();
});

test("odd keys are shown as text and open exactly", async ({ page }) => {
  await signUp(page);
  await verifiedConnection(page, "Odd keys", readAll);
  await openBucket(page, "cv-mixed");
  await entry(page, "odd/").click();
  for (const name of [
    "<script>alert(1)</",
    '"><img src=x onerror=alert(1)>.txt',
    "100% done.txt",
    "a+b=c.txt",
    "hash#tag.txt",
    "what?.txt",
    "with space.txt",
    "ünïcødé — 日本語.txt",
  ]) {
    await expect(entry(page, name)).toBeVisible();
  }
  await expect(page.locator("table.listing img")).toHaveCount(0);
  for (const name of ["hash#tag.txt", "what?.txt", "ünïcødé — 日本語.txt", '"><img src=x onerror=alert(1)>.txt']) {
    await entry(page, name).click();
    await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
    await expect(page.locator("table.details").first()).toContainText(`s3://cv-mixed/odd/${name}`);
    await page.goBack();
  }
  // The `/` in `</script>` makes a folder, as S3 lists it; inside is the rest of the key.
  await entry(page, "<script>alert(1)</").click();
  await entry(page, "script>.txt").click();
  await expect(page.locator("table.details").first()).toContainText("s3://cv-mixed/odd/<script>alert(1)</script>.txt");
  await page.goBack();
  await page.goBack();
  await entry(page, "../").click();
  await expect(entry(page, "dots.txt")).toBeVisible();
});
