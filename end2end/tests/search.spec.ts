import { expect, test } from "@playwright/test";
import { readAll, signUp, verifiedConnection } from "./helpers";

test.beforeEach(async ({ page }) => {
  // Keys like `<script>alert(1)</script>` must stay text: any dialog is a failure.
  page.on("dialog", (dialog) => {
    throw new Error(`a dialog opened: ${dialog.message()}`);
  });
});

const results = (page) => page.locator("table.search-results tbody tr");

test("search a bucket from its folder page and open what was found", async ({ page }) => {
  await signUp(page);
  await verifiedConnection(page, "Searching", readAll);
  await page.getByRole("link", { name: "Browse buckets" }).click();
  await page.locator("table.listing").getByRole("link", { name: "cv-mixed", exact: true }).click();
  await page.getByRole("link", { name: "Search this bucket" }).click();
  await expect(page.getByRole("heading", { name: "Search in cv-mixed", level: 1 })).toBeVisible();

  await page.getByLabel("Search for").fill("report");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByText(/Searched every key/)).toBeVisible();
  await expect(results(page)).toHaveCount(1);
  await results(page).getByRole("link", { name: "walk/one/two/three/report.csv" }).click();
  await expect(page.getByRole("heading", { name: "report.csv", level: 1 })).toBeVisible();
  await page.goBack();
  await expect(results(page)).toHaveCount(1);

  // A glob, and keys that try to be markup stay text.
  await page.getByLabel("How the key is matched").selectOption("glob");
  await page.getByLabel("Search for").fill("*.txt");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByText(/Searched every key/)).toBeVisible();
  await expect(results(page).getByRole("link", { name: "odd/<script>alert(1)</script>.txt" })).toBeVisible();
  await expect(results(page).getByRole("link", { name: "odd/ünïcødé — 日本語.txt" })).toBeVisible();

  // A bad regular expression is refused with the reason, nothing lost from the form.
  await page.getByLabel("How the key is matched").selectOption("regex");
  await page.getByLabel("Search for").fill("(unclosed");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("regular expression does not read");
  await expect(page.getByLabel("Search for")).toHaveValue("(unclosed");
});

test("a search that stops at a bound continues, and its URL keeps where it was", async ({ page }) => {
  await signUp(page);
  await verifiedConnection(page, "Big search", readAll);
  await page.getByRole("link", { name: "Browse buckets" }).click();
  await page.locator("table.listing").getByRole("link", { name: "cv-big", exact: true }).click();
  await page.getByRole("link", { name: "Search this bucket" }).click();
  await page.getByLabel("Search for").fill("key-");
  await page.getByRole("button", { name: "Search", exact: true }).click();

  // Every key matches: a request stops at 1,000 found and says where.
  await expect(page.getByText("Found 1,000; stopped at key-00999.txt")).toBeVisible();
  await expect(results(page)).toHaveCount(1000);
  await expect(page).toHaveURL(/after=key-00999\.txt/);
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page.getByText("Found 2,000; stopped at key-01999.txt")).toBeVisible();
  await expect(results(page)).toHaveCount(2000);
  await expect(results(page).first()).toContainText("key-00000.txt");

  // A reload goes on from the position in the URL.
  await page.reload();
  await expect(page.getByText(/Searched every key/)).toBeVisible();
  await expect(results(page)).toHaveCount(500);
  await expect(results(page).first()).toContainText("key-02000.txt");
});
