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

test("set metadata on a selection at once: what is filled in is set, the rest of each object stays", async ({ page }) => {
  const folder = `bulk-${Date.now()}`;
  const keys = ["a.csv", "b 東京.csv", "c+d.csv"];
  for (const name of keys) world("put", "--bucket", "cv-work", "--key", `${folder}/${name}`, "--body", "x,y\n1,2\n");
  await signUp(page);
  const id = await verifiedConnection(page, "Bulk", "read-write");
  // One object has metadata of its own, which the bulk edit must keep.
  await page.goto(`/c/${id}/cv-work/${folder}/?object=${encodeURIComponent(`${folder}/a.csv`)}`);
  await page.getByText("Edit metadata").click();
  await page.getByRole("button", { name: "Add metadata" }).click();
  await page.getByLabel("metadata name").last().fill("owner");
  await page.getByLabel("metadata value").last().fill("finance");
  await page.getByRole("button", { name: "Save" }).first().click();
  const fact = (name: RegExp) => page.locator("table.details:not(.pairs-editor)").getByRole("row", { name });
  await expect(fact(/x-amz-meta-owner/)).toContainText("finance");

  await page.goto(`/c/${id}/cv-work/${folder}/`);
  for (const name of keys) await page.getByRole("checkbox", { name: `Select ${name}` }).check();
  const bulk = page.locator("details.bulk-editor");
  await bulk.getByText("Set metadata on the 3 chosen object(s)").click();
  await bulk.getByRole("button", { name: "Apply to the selection" }).click();
  await expect(bulk.getByRole("alert")).toContainText("Fill in at least one field");
  await bulk.getByLabel("Content-Type").fill("text/csv; charset=utf-8");
  await bulk.getByLabel("Cache-Control").fill("max-age=300");
  await bulk.getByRole("button", { name: "Add metadata" }).click();
  await bulk.getByLabel("metadata name").last().fill("reviewed");
  await bulk.getByLabel("metadata value").last().fill("yes");
  await bulk.getByRole("button", { name: "Apply to the selection" }).click();
  await expect(bulk.getByRole("status").filter({ hasText: "Updated 3 object(s)." })).toBeVisible();

  for (const name of keys) {
    await page.goto(`/c/${id}/cv-work/${folder}/?object=${encodeURIComponent(`${folder}/${name}`)}`);
    await expect(fact(/Content type/)).toContainText("text/csv; charset=utf-8");
    await expect(fact(/Cache-Control/)).toContainText("max-age=300");
    await expect(fact(/x-amz-meta-reviewed/)).toContainText("yes");
    await expect(fact(/x-amz-meta-owner/)).toHaveCount(name === "a.csv" ? 1 : 0);
  }
});
