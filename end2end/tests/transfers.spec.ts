import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { file } from "./files";
import { signUp, verifiedConnection, world } from "./helpers";

// Everything here runs against the strict stand-in: the browser fetches presigned URLs that the
// stand-in checks (signature, expiry, the role's and the session's policies) and answers by the
// bucket's CORS rule (Crossview's documented one, for this origin), as S3 does.
const bucket = "cv-transfers";

test.beforeEach(async ({ context, page }) => {
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") console.log(`browser ${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => console.log(`page error: ${err.message}`));
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  page.on("dialog", (dialog) => {
    throw new Error(`a dialog opened: ${dialog.message()}`);
  });
});

/** Signs up and connects a role with the page's read-write policy; returns the bucket's URL. */
async function connect(page: Page): Promise<string> {
  await signUp(page);
  const id = await verifiedConnection(page, "Transfers", "read-write");
  return `/c/${id}/${bucket}`;
}

/** A folder of its own for each test run, so reruns against one stand-in never collide. */
const run = () => `run-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/** Writes an object as the bucket's owner would. */
async function seed(key: string, body: string) {
  world("put", "--bucket", bucket, "--key", key, "--body", body);
}

/** The keys under a prefix, as the bucket's owner lists them. */
async function keysUnder(prefix: string): Promise<string[]> {
  return world("keys", "--bucket", bucket, "--prefix", prefix).split("\n").filter((k) => k !== "");
}

/** Multipart uploads still open under a prefix. */
async function openUploads(prefix: string): Promise<number> {
  return Number(world("uploads", "--bucket", bucket, "--prefix", prefix));
}


const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function openFolder(page: Page, href: string, folder: string) {
  await page.goto(`${href}/${folder}/`);
  await expect(page.getByRole("heading", { name: folder, level: 1 })).toBeVisible();
}

test("upload two small files and a 40 MiB one, two at once: progress, sizes, the batch's bar, then download one and compare bytes", async ({ page }) => {
  const href = await connect(page);
  const folder = run();
  await page.goto(href);
  await page.getByLabel("New folder name").fill(folder);
  await page.getByRole("button", { name: "Create folder" }).click();
  await expect(page.getByRole("heading", { name: folder, level: 1 })).toBeVisible();
  await expect(page.getByText("This folder is empty.")).toBeVisible();

  // Every value the progress bars take, recorded by the page itself (uploads are quick here).
  // And how many files were on their way at once, at every change.
  await page.evaluate(() => {
    const seen: number[] = [];
    const together: number[] = [];
    Object.assign(window, { seen, together });
    new MutationObserver((changes) => {
      for (const c of changes) {
        const el = c.target as HTMLProgressElement;
        if (el.tagName === "PROGRESS" && el.closest("li.upload")) seen.push(Number(el.value));
      }
      together.push(document.querySelectorAll('li.upload[data-state="sending"]').length);
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["value", "data-state"] });
  });
  const large = file("large.bin", 40 * 1024 * 1024);
  const small = file("hello world ✓.txt", 1234);
  const other = file("other.txt", 2048);
  await page.getByLabel("Files at once").selectOption("2");
  await page.getByLabel("Upload files").setInputFiles([large, small, other]);
  const rows = page.locator("li.upload");
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: "large.bin" })).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  await expect(rows.filter({ hasText: "hello world" })).toHaveAttribute("data-state", "done");
  await expect(rows.filter({ hasText: "hello world" })).toContainText("Uploaded · 1.2 KiB");
  await expect(rows.filter({ hasText: "large.bin" })).toContainText("Uploaded · 40.0 MiB");
  await expect(page.locator(".upload-overall")).toContainText("3 of 3 files");
  await expect(page.getByLabel("All uploads")).toHaveAttribute("value", "100");
  const seen: number[] = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
  expect(seen.some((v) => v > 0 && v < 100), `progress moved: ${seen.join(",")}`).toBe(true);
  const together: number[] = await page.evaluate(() => (window as unknown as { together: number[] }).together);
  expect(Math.max(...together), `files sending at once: ${together.join(",")}`).toBe(2);

  // The large file went as a multipart upload (its ETag counts the parts) and nothing is left open.
  expect(world("head", "--bucket", bucket, "--key", `${folder}/large.bin`)).toMatch(/-5"$/);
  expect(await openUploads(`${folder}/`)).toBe(0);

  // Both are listed once the uploads end.
  await expect(page.getByRole("link", { name: "large.bin", exact: true })).toBeVisible();
  await page.getByRole("link", { name: "hello world ✓.txt", exact: true }).click();
  await expect(page.getByRole("heading", { name: "hello world ✓.txt", level: 1 })).toBeVisible();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("hello world ✓.txt");
  expect(sha256(readFileSync(await download.path()))).toBe(sha256(readFileSync(small)));
});

test("cancel a multipart upload midway: nothing is left open", async ({ page }) => {
  const href = await connect(page);
  const folder = run();
  await seed(`${folder}/keep.txt`, "so the folder exists");
  await openFolder(page, href, folder);
  // A slow uplink, so that the upload is still going when it is cancelled.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 4 * 1024 * 1024,
  });
  await page.getByLabel("Upload files").setInputFiles(file("slow.bin", 40 * 1024 * 1024));
  const row = page.locator("li.upload").filter({ hasText: "slow.bin" });
  await expect(row).toHaveAttribute("data-state", "sending");
  await expect
    .poll(async () => Number(await row.locator("progress").getAttribute("value")))
    .toBeGreaterThan(0);
  await row.getByRole("button", { name: "Cancel" }).click();
  await expect(row).toHaveAttribute("data-state", "cancelled");
  await expect.poll(() => openUploads(`${folder}/`)).toBe(0);
  expect(await keysUnder(`${folder}/`)).toEqual([`${folder}/keep.txt`]);
});

test("a 60 MiB upload cut off by closing the tab goes on where it stopped: only the missing parts are sent", async ({ page, context }) => {
  test.setTimeout(180_000);
  const href = await connect(page);
  const folder = run();
  await seed(`${folder}/keep.txt`, "so the folder exists");
  const big = file("resume.bin", 60 * 1024 * 1024);
  const partsSent = (p: Page) => {
    const done: string[] = [];
    p.on("response", (r) => {
      const url = new URL(r.url());
      if (r.request().method() === "PUT" && url.searchParams.has("partNumber") && r.status() === 200) {
        done.push(url.searchParams.get("partNumber")!);
      }
    });
    return done;
  };
  await openFolder(page, href, folder);
  // A slow uplink, so that the tab closes with parts still on their way.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * 1024 * 1024 });
  const before = partsSent(page);
  await page.getByLabel("Upload files").setInputFiles(big);
  await expect.poll(() => before.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  await page.close();
  const held = new Set(before).size;
  expect(held).toBeLessThan(8);

  const again = await context.newPage();
  const after = partsSent(again);
  await openFolder(again, href, folder);
  // The folder's unfinished uploads, as S3 holds them: this one, resumed from the list.
  const unfinished = again.locator("details.unfinished");
  await unfinished.locator("summary").click();
  const listed = unfinished.locator("li.unfinished-upload").filter({ hasText: "resume.bin" });
  await expect(listed).toContainText(/\d parts, [\d.]+ MiB sent · started (just now|1 min ago)/);
  await expect(unfinished).toContainText("No lifecycle rule of this bucket aborts unfinished uploads here");
  const pick = listed.getByLabel("Pick resume.bin to resume its upload");
  await pick.setInputFiles(file("other.bin", 1024));
  await expect(listed.getByRole("alert")).toContainText("named “resume.bin”, not “other.bin”");
  await pick.setInputFiles(big);
  const row = again.locator("li.upload").filter({ hasText: "resume.bin" });
  await expect(row).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  // Only what S3 did not hold went again (a part cut off mid-way is sent whole).
  expect(after.length).toBeLessThanOrEqual(8 - held);
  expect(after.filter((n) => before.includes(n))).toEqual([]);
  expect(world("head", "--bucket", bucket, "--key", `${folder}/resume.bin`)).toMatch(/-8"$/);
  expect(await openUploads(`${folder}/`)).toBe(0);
  await again.getByRole("link", { name: "resume.bin", exact: true }).click();
  const [download] = await Promise.all([again.waitForEvent("download"), again.getByRole("link", { name: "Download" }).click()]);
  expect(sha256(readFileSync(await download.path()))).toBe(sha256(readFileSync(big)));
});

test("an unfinished upload is aborted from the folder's list, and S3 drops it", async ({ page, context }) => {
  test.setTimeout(120_000);
  const href = await connect(page);
  const folder = run();
  await seed(`${folder}/keep.txt`, "so the folder exists");
  await openFolder(page, href, folder);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 4 * 1024 * 1024 });
  await page.getByLabel("Upload files").setInputFiles(file("left behind.bin", 40 * 1024 * 1024));
  await expect.poll(() => openUploads(`${folder}/`), { timeout: 30_000 }).toBe(1);
  const again = await context.newPage();
  await page.close();
  await openFolder(again, href, folder);
  const unfinished = again.locator("details.unfinished");
  await unfinished.locator("summary").click();
  await unfinished.getByRole("button", { name: "Abort the upload of left behind.bin" }).click();
  await expect(unfinished).toContainText("No unfinished uploads here.");
  expect(await openUploads(`${folder}/`)).toBe(0);
});

test("an upload onto a name already taken asks first, once for the batch: keep both, skip or replace", async ({ page }) => {
  const href = await connect(page);
  const folder = run();
  await seed(`${folder}/notes.txt`, "the original");
  const original = world("head", "--bucket", bucket, "--key", `${folder}/notes.txt`);
  await openFolder(page, href, folder);
  const copy = file("notes.txt", 2048);
  const ask = page.getByRole("alert").filter({ hasText: "A file of the same name is already here." });
  const row = (name: string) => page.locator("li.upload").filter({ has: page.getByText(`${folder}/${name}`, { exact: true }) });

  await page.getByLabel("Upload files").setInputFiles(copy);
  await ask.getByRole("button", { name: "Keep both" }).click();
  await expect(row("notes (1).txt")).toHaveAttribute("data-state", "done");

  await page.getByLabel("Upload files").setInputFiles(copy);
  await ask.getByRole("button", { name: "Skip" }).click();
  await expect(row("notes.txt")).toHaveAttribute("data-state", "skipped");
  await expect(ask).toHaveCount(0);
  expect(await keysUnder(`${folder}/`)).toEqual([`${folder}/notes (1).txt`, `${folder}/notes.txt`]);
  expect(world("head", "--bucket", bucket, "--key", `${folder}/notes.txt`)).toBe(original);

  await page.getByLabel("Upload files").setInputFiles(copy);
  await ask.getByRole("button", { name: "Replace" }).click();
  await expect(row("notes.txt")).toHaveAttribute("data-state", "done");
  expect(world("head", "--bucket", bucket, "--key", `${folder}/notes.txt`)).not.toBe(original);
});

test("preview an image and a text file", async ({ page }) => {
  const href = await connect(page);
  await page.goto(`${href}/preview/?object=preview%2Fphoto.png`);
  const image = page.getByRole("img", { name: "Preview of photo.png" });
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);

  await page.goto(`${href}/preview/?object=preview%2Fnotes.txt`);
  const text = page.locator("pre.preview-text");
  // Markup in a text file is shown as text.
  await expect(text).toContainText("Plain text, <b>not markup</b>.");
  await expect(text).toContainText("Second line ✓");
  await expect(page.locator(".preview b")).toHaveCount(0);
});

test("Markdown renders without its raw HTML, images or script links; code is highlighted; long text loads more by ranges", async ({ page }) => {
  const href = await connect(page);
  const away: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("example.com")) away.push(r.url());
  });
  await page.goto(`${href}/preview/?object=preview%2Freadme.md`);
  const md = page.locator(".preview-markdown");
  await expect(md.getByRole("heading", { name: "Crossview notes", level: 1 })).toBeVisible();
  await expect(md.locator("em")).toHaveText("emphasis");
  await expect(md.getByRole("listitem")).toHaveText(["one", "two ✓"]);
  // Raw HTML is text; no element of the file's own, no image fetched, no script link.
  await expect(md).toContainText("<b>raw html</b> <script>window.pwned = 1</script>");
  await expect(md.locator("b, script, img, iframe")).toHaveCount(0);
  await expect(md).toContainText("[image: tracking pixel]");
  await expect(md.getByRole("link", { name: "site" })).toHaveAttribute("rel", "noopener noreferrer nofollow");
  await expect(md.locator('a[href^="javascript:"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  expect(away).toEqual([]);

  await page.goto(`${href}/preview/?object=preview%2Fmain.rs`);
  const code = page.locator(".preview-code code");
  await expect(code.locator(".hljs-keyword").first()).toHaveText("fn");
  await expect(code.locator(".hljs-comment")).toHaveText("// A comment");
  await expect(code).toContainText('println!("<b>hi</b>");');
  await expect(code.locator("b")).toHaveCount(0);

  // 110,000 bytes: the first 64 KiB, then the rest on "Load more", with no character broken
  // where the pieces meet.
  await page.goto(`${href}/preview/?object=preview%2Flong.txt`);
  const text = page.locator("pre.preview-text");
  await expect(page.locator(".preview-more")).toContainText("The first 64.0 KiB of 107.4 KiB.");
  await expect(text).not.toContainText("line 04999");
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(text).toContainText("line 04999 東京😀");
  await expect(page.locator(".preview-more")).toHaveCount(0);
  const shown = await text.textContent();
  expect(shown).not.toContain("\ufffd");
  expect(shown!.split("\n").filter((l) => l !== "")).toHaveLength(5000);
});

test("a CSV previews as a table under its header, JSON as a foldable tree, both as text", async ({ page }) => {
  const href = await connect(page);
  await page.goto(`${href}/preview/?object=preview%2Ftable.csv`);
  const table = page.locator(".preview-table table");
  await expect(table.locator("thead th")).toHaveText(["city", "population"]);
  await expect(table.locator("tbody tr")).toHaveCount(2);
  // A quoted cell keeps its comma; markup in a cell stays text.
  await expect(table.locator("tbody tr").first().locator("td")).toHaveText(["Tokyo, 東京", "37400068"]);
  await expect(table.locator("tbody tr").nth(1).locator("td").first()).toHaveText("<script>alert(1)</script>");
  await expect(page.locator(".preview script")).toHaveCount(0);

  await page.goto(`${href}/preview/?object=preview%2Fdata.json`);
  const tree = page.locator(".preview-json");
  await expect(tree).toContainText('"name": "<b>crossview</b>"');
  await expect(page.locator(".preview b")).toHaveCount(0);
  // Two levels open; deeper ones fold until asked.
  const deep = tree.locator("details", { has: page.locator("summary", { hasText: '"deep"' }) }).last();
  await expect(deep).not.toHaveAttribute("open", /.*/);
  await deep.locator("summary").first().click();
  await expect(tree.getByText('"deeper": 1')).toBeVisible();
});

test("delete a selection, and rename a folder with nested objects", async ({ page }) => {
  const href = await connect(page);
  const folder = run();
  for (const key of ["a.txt", "b.txt", "c.txt", "album/z.txt", "album/2024/x.txt", "album/2024/deep/y.txt"]) {
    await seed(`${folder}/${key}`, `content of ${key}`);
  }
  await openFolder(page, href, folder);
  await page.getByRole("checkbox", { name: "Select a.txt" }).check();
  await page.getByRole("checkbox", { name: "Select b.txt" }).check();
  await expect(page.getByText("2 selected")).toBeVisible();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Deleted 2 object(s)." })).toBeVisible();
  await expect(page.getByRole("link", { name: "a.txt", exact: true })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "c.txt", exact: true })).toBeVisible();
  expect((await keysUnder(`${folder}/`)).filter((k) => !k.includes("album"))).toEqual([`${folder}/c.txt`]);

  await page.getByRole("checkbox", { name: "Select album/" }).check();
  await page.getByRole("button", { name: "Rename" }).click();
  await page.getByLabel("New name").fill("photos");
  await page.getByRole("button", { name: "Rename" }).last().click();
  await expect(page.getByRole("status").filter({ hasText: "Moved 3 object(s)." })).toBeVisible();
  await expect(page.getByRole("link", { name: "photos/", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "album/", exact: true })).toHaveCount(0);
  expect(await keysUnder(`${folder}/album/`)).toEqual([]);
  expect((await keysUnder(`${folder}/photos/`)).sort()).toEqual(
    [`${folder}/photos/2024/deep/y.txt`, `${folder}/photos/2024/x.txt`, `${folder}/photos/z.txt`],
  );

  // A folder is deleted only after its count and a typed confirmation.
  await page.getByRole("checkbox", { name: "Select photos/" }).check();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByText("This deletes 3 object(s)")).toBeVisible();
  const confirm = page.getByRole("button", { name: "Delete everything" });
  await expect(confirm).toBeDisabled();
  await page.getByLabel("Confirmation").fill("photos");
  await confirm.click();
  await expect(page.getByRole("status").filter({ hasText: "Deleted 3 object(s)." })).toBeVisible();
  expect(await keysUnder(`${folder}/photos/`)).toEqual([]);
});

test("a folder loaded sorted by size, with ties and odd names, acts on exactly the rows ticked", async ({ page }) => {
  // The browser reads the first page's rows back from the server's table (they are not sent
  // twice): a tick must still name the key of the row it is in, whatever the order and names.
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  const href = await connect(page);
  const folder = run();
  const tied = ["100% c.txt", "<i>b.txt", "d+e.txt", "same a.txt", "ünï — f.txt"];
  for (const name of tied) await seed(`${folder}/${name}`, "x");
  await seed(`${folder}/big.txt`, "a larger body than the others");
  await seed(`${folder}/sub/one.txt`, "y");
  await page.goto(`${href}/${folder}/?sort=size&order=desc`);
  await expect(page.getByRole("heading", { name: folder, level: 1 })).toBeVisible();
  const names = page.locator("table.listing tbody a.entry");
  await expect(names).toHaveText(["sub/", "big.txt", "ünï — f.txt", "same a.txt", "d+e.txt", "<i>b.txt", "100% c.txt"]);

  await page.getByRole("checkbox", { name: "Select <i>b.txt" }).check();
  await page.getByRole("checkbox", { name: "Select 100% c.txt" }).check();
  await expect(page.getByText("2 selected")).toBeVisible();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Deleted 2 object(s)." })).toBeVisible();
  expect((await keysUnder(`${folder}/`)).sort()).toEqual(
    ["big.txt", "d+e.txt", "same a.txt", "sub/one.txt", "ünï — f.txt"].map((k) => `${folder}/${k}`),
  );
  expect(errors).toEqual([]);
});

test("create a share link, open it, revoke it and see it refused", async ({ page, browser }) => {
  const href = await connect(page);
  await page.goto(`${href}/preview/?object=preview%2Fnotes.txt`);
  await page.getByLabel("Anyone with the link can download this object for").selectOption("1");
  await page.getByRole("button", { name: "Create share link" }).click();
  const link = await page.locator(".share-link code").textContent();
  expect(link).toMatch(/\/s\/[0-9a-f]{64}$/);

  // Someone without an account opens it: a page that says what it is, then the file itself.
  const stranger = await browser.newContext();
  const landing = await stranger.newPage();
  await landing.goto(link!);
  await expect(landing.getByRole("heading", { name: "notes.txt", level: 1 })).toBeVisible();
  const facts = landing.locator("dl.facts");
  await expect(facts).toContainText("text/plain");
  await expect(facts).toContainText(/\d+ B/);
  await expect(facts).toContainText(/person-.*@example\.com/);
  await expect(facts).toContainText("UTC");
  const download = landing.getByRole("link", { name: "Download" });
  const opened = await stranger.request.get(new URL(await download.getAttribute("href"), link!).toString());
  expect(opened.status()).toBe(200);
  expect(await opened.text()).toContain("Plain text, <b>not markup</b>.");

  await page.getByRole("link", { name: "Shared links" }).click();
  const row = page.getByRole("row", { name: /preview\/notes\.txt/ });
  await expect(row).toContainText("Active");
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByRole("row", { name: /preview\/notes\.txt/ })).toContainText("Revoked");

  const refused = await stranger.request.get(`${link}/download`, { maxRedirects: 0 });
  expect(refused.status()).toBe(410);
  expect(await refused.text()).toContain("expired or was revoked");
  // Its page says so, with what it was, and offers no download.
  const gone = await landing.goto(link!);
  expect(gone!.status()).toBe(410);
  await expect(landing.getByRole("alert")).toHaveText("This link was revoked: the file is no longer shared.");
  await expect(landing.getByRole("heading", { name: "notes.txt", level: 1 })).toBeVisible();
  await expect(landing.getByRole("link", { name: "Download" })).toHaveCount(0);
  await stranger.close();
});

test("a folder and a file with literal %XX in their names open and download exactly", async ({ page }) => {
  const href = await connect(page);
  const folder = run();
  // S3 keys are plain text: `%25` and `%20` here are three characters each, not escapes.
  const body = `the bytes of a file named percent%20literal.txt ${folder}`;
  await seed(`${folder}/50%25 off/percent%20literal.txt`, body);
  await seed(`${folder}/50% off/decoy.txt`, "the folder a double decoding would open");
  await openFolder(page, href, folder);

  await page.getByRole("link", { name: "50%25 off/", exact: true }).click();
  await expect(page.getByRole("heading", { name: "50%25 off", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "decoy.txt" })).toHaveCount(0);
  await page.getByRole("link", { name: "percent%20literal.txt", exact: true }).click();
  await expect(page.getByRole("heading", { name: "percent%20literal.txt", level: 1 })).toBeVisible();
  await expect(page.locator("table.details").first()).toContainText(
    `s3://${bucket}/${folder}/50%25 off/percent%20literal.txt`,
  );
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("percent%20literal.txt");
  expect(readFileSync(await download.path(), "utf8")).toBe(body);

  // The same pages loaded afresh from their URLs (server-rendered) name the same object.
  await page.reload();
  await expect(page.getByRole("heading", { name: "percent%20literal.txt", level: 1 })).toBeVisible();
  await page.getByRole("link", { name: "← Back to the folder" }).click();
  await expect(page.getByRole("heading", { name: "50%25 off", level: 1 })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("link", { name: "percent%20literal.txt", exact: true })).toBeVisible();
});
