import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { file } from "./files";

// The world scripts/run.sh shows a newcomer: the strict stand-in seeded with the demo buckets
// (scripts/aws_world.py --demo, as scripts/test.sh seeds it) and the demo account with its two
// connections, set up by the very script run.sh uses.
const email = "demo@crossview.local";
const password = "demo harbour lantern quietly";
const baseURL = process.env.CROSSVIEW_URL ?? "http://127.0.0.1:3000";

test.beforeAll(() => {
  execFileSync("python3", ["../scripts/demo_account.py", baseURL, email, password], { stdio: "inherit" });
});

test.beforeEach(async ({ page }) => {
  page.on("pageerror", (err) => console.log(`page error: ${err.message}`));
  page.on("dialog", (dialog) => {
    throw new Error(`a dialog opened: ${dialog.message()}`);
  });
});

async function signIn(page: Page) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();
}

const entry = (page: Page, name: string) => page.locator("table.listing").getByRole("link", { name, exact: true });

async function openSamples(page: Page, connection: string) {
  await page.getByRole("link", { name: connection, exact: true }).click();
  await page.getByRole("link", { name: "Browse buckets" }).click();
  await entry(page, "crossview-demo-reports").click();
  await entry(page, "samples/").click();
  await expect(page.getByRole("heading", { name: "samples", level: 1 })).toBeVisible();
}

test("the demo previews, downloads, uploads a 20 MiB file as multipart and deletes it", async ({ page }) => {
  await signIn(page);
  await openSamples(page, "Demo AWS account");

  await entry(page, "diagram.png").click();
  const image = page.getByRole("img", { name: "Preview of diagram.png" });
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(240);
  await page.goBack();

  await entry(page, "notes.txt").click();
  await expect(page.locator("pre.preview-text")).toContainText("Markup stays text: <b>not bold</b> ✓");
  await page.goBack();

  await entry(page, "handbook.pdf").click();
  const frame = page.locator("iframe.preview-pdf");
  await expect(frame).toHaveAttribute("src", /X-Amz-Signature=/);
  const shown = await page.request.get((await frame.getAttribute("src"))!);
  expect(shown.status()).toBe(200);
  expect(shown.headers()["content-type"]).toBe("application/pdf");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("handbook.pdf");
  const pdf = readFileSync(await download.path());
  expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
  expect(pdf.toString("latin1")).toContain("Crossview demo handbook");

  // Back in history: the download link leaves no entry of its own.
  await page.goBack();
  await expect(page.getByRole("heading", { name: "samples", level: 1 })).toBeVisible();
  const name = `upload-${Date.now()}.bin`;
  const upload = file(name, 20 * 1024 * 1024);
  await page.getByLabel("Upload files").setInputFiles(upload);
  const row = page.locator("li.upload").filter({ hasText: name });
  await expect(row).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  await expect(entry(page, name)).toBeVisible();
  await entry(page, name).click();
  await expect(page.locator("table.details").first()).toContainText("20.0 MiB");
  const [back] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download" }).click(),
  ]);
  expect(readFileSync(await back.path()).equals(readFileSync(upload))).toBe(true);
  await page.goBack();
  await expect(page.getByRole("heading", { name: "samples", level: 1 })).toBeVisible();

  await page.getByRole("checkbox", { name: `Select ${name}` }).check();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Deleted 1 object(s)." })).toBeVisible();
  await expect(entry(page, name)).toHaveCount(0);
});

test("the read-only demo connection offers no change, from what its check found", async ({ page }) => {
  await signIn(page);
  // Its owner left it read-write; the role may only read, and the check found that out.
  await page.getByRole("link", { name: "Demo read-only", exact: true }).click();
  await expect(page.locator("#writes-learned")).toHaveText(/^Nowhere: AWS refuses writes in .*crossview-demo-reports\//);
  await page.goBack();
  await openSamples(page, "Demo read-only");
  const why = "The last connection check found that this role may not write here";
  for (const action of ["Upload", "Create folder", "Delete"]) {
    const button = page.getByRole("toolbar", { name: "Folder actions" }).getByRole("button", { name: action, exact: true });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute("title", why);
  }
  await expect(page.locator("#locked-why")).toHaveText(new RegExp(`^${why}: you may browse and download here`));
  await expect(entry(page, "notes.txt")).toBeVisible();
});
