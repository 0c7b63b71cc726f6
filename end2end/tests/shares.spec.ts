import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { password, signUp, verifiedConnection, world } from "./helpers";

const bucket = "cv-transfers";
const object = "preview/notes.txt";

/** Lets time pass for one link (its deadline), as the database's owner: the one thing a person
 * cannot do from a page. */
function expire(link: string) {
  const token = link.split("/s/")[1];
  execFileSync("psql", [process.env.DATABASE_URL!, "-qAtXc",
    `update share_links set expires_at = now() - interval '1 minute' where token_hash = sha256('${token}'::bytea)`]);
}

/** Makes a link on the object's page with the rules given; returns its URL. */
async function share(
  page: Page,
  rules: { password?: string; downloads?: string; networks?: string; people?: string },
) {
  await page.getByLabel("Anyone with the link can download this object for").selectOption("720");
  const open = await page.locator("details.share-rules").evaluate((d) => (d as HTMLDetailsElement).open);
  if (!open) await page.getByText("Password, download limit, networks").click();
  await page.getByLabel(/^Password/).fill(rules.password ?? "");
  await page.getByLabel(/^Stop after this many downloads/).fill(rules.downloads ?? "");
  await page.getByLabel(/^Only from these networks/).fill(rules.networks ?? "");
  await page.getByLabel(/^Only these people/).fill(rules.people ?? "");
  const code = page.locator(".share-link code");
  const before = (await code.count()) > 0 ? await code.textContent() : null;
  await page.getByRole("button", { name: "Create share link" }).click();
  if (before) await expect(code).not.toHaveText(before);
  else await expect(code).toBeVisible();
  return (await code.textContent())!;
}

test("an anonymous visitor meets a link's password, download limit, networks and deadline", async ({ page, browser }) => {
  await signUp(page);
  const id = await verifiedConnection(page, "Sharing", "read-write");
  await page.goto(`/c/${id}/${bucket}/preview/?object=${encodeURIComponent(object)}`);

  // Bad rules are refused before anything is made.
  await page.getByLabel("Anyone with the link can download this object for").selectOption("720");
  await page.getByText("Password, download limit, networks").click();
  await page.getByLabel(/^Only from these networks/).fill("10.0.0.0/33");
  await page.getByRole("button", { name: "Create share link" }).click();
  await expect(page.getByRole("alert")).toContainText("List networks as addresses or CIDR blocks");

  // A password and one download: the link lives 30 days, its URLs minutes.
  const guarded = await share(page, { password: "correct horse battery", downloads: "1" });
  expect(guarded).toMatch(/\/s\/[0-9a-f]{64}$/);
  await expect(page.getByRole("img", { name: "The link as a QR code" })).toBeVisible();
  await expect(page.getByText(/Works until .* UTC\./)).toBeVisible();

  const stranger = await browser.newContext({ acceptDownloads: true });
  const visitor = await stranger.newPage();
  await visitor.goto(guarded);
  await expect(visitor.getByRole("heading", { name: "notes.txt", level: 1 })).toBeVisible();
  await expect(visitor.locator("dl.facts")).toContainText("Downloads left1");
  await visitor.getByLabel("Password").fill("wrong horse battery");
  await visitor.getByRole("button", { name: "Download" }).click();
  await expect(visitor.getByRole("alert")).toContainText("That password is not right.");
  // The password never travels in an address.
  expect(visitor.url()).not.toContain("horse");
  await visitor.getByLabel("Password").fill("correct horse battery");
  const [download] = await Promise.all([
    visitor.waitForEvent("download"),
    visitor.getByRole("button", { name: "Download" }).click(),
  ]);
  expect(download.url()).toContain("X-Amz-Signature=");
  expect(readFileSync((await download.path())!, "utf8")).toContain("Plain text, <b>not markup</b>.");
  // Its one download is spent: the page says so and offers none.
  const spent = await visitor.goto(guarded);
  expect(spent!.status()).toBe(410);
  await expect(visitor.getByRole("alert")).toHaveText("This link has handed out all its downloads.");
  await expect(visitor.getByRole("button", { name: "Download" })).toHaveCount(0);

  // Only from a network the visitor is not on.
  const fenced = await share(page, { networks: "192.0.2.0/24" });
  const elsewhere = await visitor.goto(fenced);
  expect(elsewhere!.status()).toBe(403);
  await expect(visitor.getByRole("alert")).toHaveText("This link does not open from your network.");
  const refused = await stranger.request.get(`${fenced}/download`, { maxRedirects: 0 });
  expect(refused.status()).toBe(403);

  // A plain link whose deadline passed; its owner gives it another day and it works again.
  const plain = await share(page, {});
  expire(plain);
  const expired = await visitor.goto(plain);
  expect(expired!.status()).toBe(410);
  await expect(visitor.getByRole("alert")).toHaveText("This link has expired.");
  await page.getByRole("link", { name: "Shared links" }).click();
  const rows = page.getByRole("row", { name: /preview\/notes\.txt/ });
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: "password · 1 of 1 downloads" })).toContainText("Downloads used");
  await expect(rows.filter({ hasText: "from 192.0.2.0/24" })).toContainText("Active");
  const stale = rows.filter({ hasText: "Expired" });
  await stale.getByLabel("New deadline").selectOption("24");
  await stale.getByRole("button", { name: "Change" }).click();
  await expect(page.getByRole("row", { name: /preview\/notes\.txt/ }).filter({ hasText: "Expired" })).toHaveCount(0);
  await visitor.goto(plain);
  await expect(visitor.getByRole("link", { name: "Download" })).toBeVisible();
  const opened = await stranger.request.get(`${plain}/download`);
  expect(opened.status()).toBe(200);
  await stranger.close();
});

test("a link for named people asks the visitor to sign in, and opens only for them", async ({ page, browser }) => {
  const ana = await browser.newContext({ acceptDownloads: true });
  const anaPage = await ana.newPage();
  const anaEmail = await signUp(anaPage);
  await anaPage.getByRole("button", { name: "Sign out" }).click();
  await expect(anaPage).toHaveURL(/\/sign-in$/);

  await signUp(page);
  const id = await verifiedConnection(page, "People", "read-write");
  await page.goto(`/c/${id}/${bucket}/preview/?object=${encodeURIComponent(object)}`);
  await page.getByLabel("Anyone with the link can download this object for").selectOption("720");
  await page.getByText("Password, download limit, networks, people").click();
  await page.getByLabel(/^Only these people/).fill("not an address");
  await page.getByRole("button", { name: "Create share link" }).click();
  await expect(page.getByRole("alert")).toContainText("List the people as email addresses");
  const link = await share(page, { people: anaEmail.toUpperCase() });

  // Not signed in: the page says who may open it, and the download address refuses too.
  const anonymous = await anaPage.goto(link);
  expect(anonymous!.status()).toBe(401);
  expect((await ana.request.get(`${link}/download`, { maxRedirects: 0 })).status()).toBe(401);
  await anaPage.getByRole("link", { name: "Sign in to download" }).click();
  await anaPage.getByLabel("Email").fill(anaEmail);
  await anaPage.getByLabel("Password").fill(password);
  await anaPage.getByRole("button", { name: "Sign in" }).click();
  // Back on the link, signed in as a person it names.
  await expect(anaPage).toHaveURL(link);
  const [download] = await Promise.all([
    anaPage.waitForEvent("download"),
    anaPage.getByRole("link", { name: "Download" }).click(),
  ]);
  expect(readFileSync((await download.path())!, "utf8")).toContain("Plain text, <b>not markup</b>.");
  await ana.close();

  // Someone else, signed in, is refused.
  const bo = await browser.newContext();
  const boPage = await bo.newPage();
  await signUp(boPage);
  const refused = await boPage.goto(link);
  expect(refused!.status()).toBe(403);
  await expect(boPage.getByRole("alert")).toContainText("shared with other people than the account you are signed in with");
  expect((await bo.request.get(`${link}/download`, { maxRedirects: 0 })).status()).toBe(403);
  await bo.close();

  await page.getByRole("link", { name: "Shared links" }).click();
  await expect(page.getByRole("row", { name: /preview\/notes\.txt/ })).toContainText(`for ${anaEmail.toLowerCase()}`);
});

test("a folder link with a password lists its folder, never above it, and downloads files and a zip", async ({ page, browser }, info) => {
  // A folder whose names need encoding, in a sub-folder.
  const folder = `shared-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const dir = mkdtempSync(join(tmpdir(), "crossview-share-"));
  const files: Record<string, string> = {
    "東京 report.txt": "tokyo\n",
    "sub/a+b %20 c.txt": "plus and percent\n",
    "sub/<img src=x onerror=alert(1)>.txt": "not markup\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  world("putdir", "--bucket", bucket, "--prefix", `${folder}/`, "--dir", dir);

  await signUp(page);
  const id = await verifiedConnection(page, "Folder links", "read-write");
  await page.goto(`/c/${id}/${bucket}/${folder}/`);
  await page.getByText("Share this folder").click();
  await page.getByLabel("Anyone with the link can list and download what is in this folder for").selectOption("720");
  await page.getByText("Password, download limit, networks, people").click();
  await page.getByLabel(/^Password/).fill("folder password here");
  await page.getByRole("button", { name: "Create share link" }).click();
  const url = (await page.locator(".share-link code").textContent())!;
  expect(url).toMatch(/\/s\/[0-9a-f]{64}$/);
  // Opened on the origin the stand-in's buckets let fetch from (the zip reads with fetch).
  const link = new URL(new URL(url).pathname, page.url()).href;

  const stranger = await browser.newContext({ acceptDownloads: true });
  const visitor = await stranger.newPage();
  visitor.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  // No streaming file API: the zip is kept in memory and saved at the end.
  await visitor.addInitScript(() => {
    delete (window as any).showSaveFilePicker;
    delete (Navigator.prototype as any).serviceWorker;
  });
  await visitor.goto(link);
  await expect(visitor.getByRole("heading", { name: `${folder}/`, level: 1 })).toBeVisible();
  // Nothing is listed before the password is given, and no file is handed out.
  await expect(visitor.getByRole("table")).toHaveCount(0);
  const early = await stranger.request.get(`${link}/download?file=${encodeURIComponent("東京 report.txt")}`, { maxRedirects: 0 });
  expect(early.status()).toBe(401);
  await visitor.getByLabel("Password").fill("not the password");
  await visitor.getByRole("button", { name: "Open the folder" }).click();
  await expect(visitor.getByRole("alert")).toContainText("That password is not right.");
  await visitor.getByLabel("Password").fill("folder password here");
  await visitor.getByRole("button", { name: "Open the folder" }).click();

  const table = visitor.getByRole("table", { name: "Shared files" });
  await expect(table.getByRole("link", { name: "sub/" })).toBeVisible();
  await expect(table).toContainText("東京 report.txt");
  // The way up stops at the shared folder: its crumbs name nothing above it.
  await expect(visitor.getByRole("navigation", { name: "Folder" })).toHaveText(`${folder} / `);
  await table.getByRole("link", { name: "sub/" }).click();
  await expect(visitor.getByRole("navigation", { name: "Folder" })).toHaveText(`${folder} / sub / `);
  const [file] = await Promise.all([
    visitor.waitForEvent("download"),
    visitor.getByRole("link", { name: "Download <img src=x onerror=alert(1)>.txt" }).click(),
  ]);
  expect(file.url()).toContain("X-Amz-Signature=");
  expect(readFileSync((await file.path())!, "utf8")).toBe("not markup\n");
  await visitor.getByRole("link", { name: folder }).click();

  // The zip is made by the app, on a page of its own: the listing loads no application.
  await visitor.getByRole("link", { name: "Download all as zip" }).click();
  await expect(visitor.getByRole("heading", { name: `${folder}/`, level: 1 })).toBeVisible();
  const zipping = visitor.waitForEvent("download");
  await expect(async () => {
    await visitor.getByRole("button", { name: "Download all as zip" }).click();
    await expect(visitor.getByRole("status", { name: "Zip download" })).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
  const zip = await zipping;
  expect(zip.suggestedFilename()).toBe(`${folder}.zip`);
  const saved = info.outputPath("shared.zip");
  await zip.saveAs(saved);
  const check = `
import pathlib, sys, zipfile
archive, root = zipfile.ZipFile(sys.argv[1]), pathlib.Path(sys.argv[2])
names = sorted(i.filename for i in archive.infolist() if not i.is_dir())
assert archive.testzip() is None
for name in names:
    assert archive.read(name) == (root / name).read_bytes(), name
print("\\n".join(names))
`;
  const names = execFileSync("python3", ["-c", check, saved, dir], { encoding: "utf8" }).trim().split("\n");
  expect(names).toEqual(Object.keys(files).sort());
  await stranger.close();
});
