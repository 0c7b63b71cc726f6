import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { signUp, verifiedConnection } from "./helpers";

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
async function share(page: Page, rules: { password?: string; downloads?: string; networks?: string }) {
  await page.getByLabel("Anyone with the link can download this object for").selectOption("720");
  const open = await page.locator("details.share-rules").evaluate((d) => (d as HTMLDetailsElement).open);
  if (!open) await page.getByText("Password, download limit, networks").click();
  await page.getByLabel(/^Password/).fill(rules.password ?? "");
  await page.getByLabel(/^Stop after this many downloads/).fill(rules.downloads ?? "");
  await page.getByLabel(/^Only from these networks/).fill(rules.networks ?? "");
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
