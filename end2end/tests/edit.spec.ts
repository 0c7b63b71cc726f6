import { expect, test } from "@playwright/test";
import { signUp, verifiedConnection, world } from "./helpers";

test("edit an object's tags and metadata, and see them on its page", async ({ page }) => {
  const folder = `edit-${Date.now()}`;
  const key = `${folder}/notes 📝.txt`;
  world("put", "--bucket", "cv-work", "--key", key, "--body", "hello\n");
  await signUp(page);
  const id = await verifiedConnection(page, "Editing", "read-write");
  await page.goto(`/c/${id}/cv-work/${folder}/?object=${encodeURIComponent(key)}`);
  await expect(page.getByRole("heading", { name: "notes 📝.txt", level: 1 })).toBeVisible();
  await expect(page.getByText("No tags.")).toBeVisible();
  // What the object's page says (the editors' own tables aside).
  const fact = (name: RegExp) => page.locator("table.details:not(.pairs-editor)").getByRole("row", { name });

  // Tags: one S3 refuses (its characters) is refused with the reason; then saved.
  await page.getByText("Edit tags").click();
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.getByLabel("tag name").last().fill("team");
  await page.getByLabel("tag value").last().fill("経理 2024");
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.getByLabel("tag name").last().fill("bad");
  await page.getByLabel("tag value").last().fill("<script>");
  await page.getByRole("button", { name: "Save" }).first().click();
  await expect(page.getByRole("alert")).toContainText("letters, digits");
  await page.getByRole("button", { name: "Remove" }).last().click();
  await page.getByRole("button", { name: "Save" }).first().click();
  await expect(fact(/team/)).toContainText("経理 2024");

  // Metadata and storage class: saved by a copy onto itself, the tags kept.
  await page.getByText("Edit metadata").click();
  await page.getByLabel("Cache-Control").fill("max-age=60");
  await page.getByLabel("Storage class").selectOption("STANDARD_IA");
  await page.getByRole("button", { name: "Add metadata" }).click();
  await page.getByLabel("metadata name").last().fill("owner");
  await page.getByLabel("metadata value").last().fill("ops");
  await page.getByRole("button", { name: "Save" }).first().click();
  await expect(fact(/Cache-Control/)).toContainText("max-age=60");
  await expect(fact(/x-amz-meta-owner/)).toContainText("ops");
  await expect(fact(/Storage class/)).toContainText("STANDARD_IA");
  await expect(fact(/team/)).toContainText("経理 2024");
});
