import { expect, test } from "@playwright/test";
import { signUp, verifiedConnection } from "./helpers";

// What Crossview tells an account shows in its Notices, with or without a mail server: here a
// share link whose owner asked to be told when it is opened.
test.beforeEach(async ({ context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
});

test("the owner of a link reads in Notices that it was opened, and marks it read", async ({ page, browser }) => {
  await signUp(page);
  const id = await verifiedConnection(page, "Notices", "read-only");
  await expect(page.getByRole("link", { name: /^Notices/ })).not.toContainText(/\d/);

  await page.goto(`/c/${id}/cv-transfers/preview/?object=preview%2Fnotes.txt`);
  await page.getByLabel("Tell me when it is opened").check();
  await page.getByRole("button", { name: "Create share link" }).click();
  const link = await page.locator(".share-link code").textContent();

  const stranger = await browser.newContext();
  expect((await stranger.request.get(`${link}/download`)).status()).toBe(200);
  await stranger.close();

  await page.getByRole("link", { name: "Shared links" }).click();
  await expect(page.getByRole("row", { name: /preview\/notes\.txt/ })).toContainText("tells you when opened");
  // The count comes with the next page the browser loads.
  await page.reload();
  const notices = page.getByRole("link", { name: /^Notices/ });
  await expect(notices.getByLabel("1 unread")).toBeVisible();
  await notices.click();
  const item = page.getByRole("listitem").filter({ hasText: "Your share link was opened" });
  await expect(item).toContainText("s3://cv-transfers/preview/notes.txt");
  await expect(item).toContainText("New");
  await page.getByRole("button", { name: "Mark all as read" }).click();
  await expect(page.getByRole("button", { name: "Mark all as read" })).toHaveCount(0);
  await expect(item).not.toContainText("New");
  await expect(page.getByRole("link", { name: /^Notices/ }).getByLabel("1 unread")).toHaveCount(0);
  await item.getByRole("link", { name: "The object" }).click();
  await expect(page.getByRole("heading", { name: "notes.txt" })).toBeVisible();
});
