import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { file } from "./files";
import { signUp, verifiedConnection, world } from "./helpers";

// How Crossview is hosted. scripts/test.sh runs the smoke walk against every deployment path it
// builds (the release binary; the Vercel Function from its Build Output behind a stand-in of
// Vercel's edge; two instances behind a round-robin balancer, through PgBouncer) and the
// instance tests where CROSSVIEW_INSTANCES names the instances behind the balancer.
const bucket = "cv-transfers";
const instances = (process.env.CROSSVIEW_INSTANCES ?? "").split(",").filter((i) => i !== "");

test.beforeEach(async ({ context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
});

/** The folder page of a new folder holding `hello.txt`, seeded as the bucket's owner would. */
async function seededFolder(page: Page, connection: string): Promise<string> {
  const folder = `hosting-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  world("put", "--bucket", bucket, "--key", `${folder}/hello.txt`, "--body", "hello from the smoke walk");
  return `/c/${connection}/${bucket}/${folder}/`;
}

test("smoke: sign up, connect, browse a folder, download a file", async ({ page }) => {
  const assets: { url: string; cache: string }[] = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.startsWith("/pkg/")) assets.push({ url: r.url(), cache: r.headers()["cache-control"] ?? "" });
  });
  await signUp(page);
  const connection = await verifiedConnection(page, "Smoke", "read-write");
  const folder = await seededFolder(page, connection);
  const shown = await page.goto(folder);
  expect(shown!.headers()["cache-control"]).toBe("no-store");
  await page.getByRole("link", { name: "hello.txt", exact: true }).click();
  await expect(page.getByRole("heading", { name: "hello.txt", level: 1 })).toBeVisible();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download" }).click(),
  ]);
  expect(readFileSync(await download.path(), "utf8")).toBe("hello from the smoke walk");

  // The site's files have content-hashed names and are kept for a year.
  const names = assets.map((a) => new URL(a.url).pathname);
  for (const kind of ["js", "wasm", "css"]) {
    expect(names.some((n) => new RegExp(`^/pkg/crossview\\.[0-9a-zA-Z_-]{6,}\\.${kind}$`).test(n)), `${kind} in ${names}`).toBe(true);
  }
  for (const a of assets) expect(a.cache, a.url).toBe("public, max-age=31536000, immutable");
});

test.describe("two instances behind a round-robin balancer", () => {
  test.skip(instances.length < 2, "needs CROSSVIEW_INSTANCES (scripts/test.sh sets it behind scripts/edge.py)");

  test("one session across both: pages, upload parts, share links, sign-in limit, sign-out", async ({ page, browser }) => {
    const servedBy = (path: string) => {
      const seen: string[] = [];
      page.on("response", (r) => {
        if (new URL(r.url()).pathname === path) seen.push(r.headers()["x-served-by"] ?? "?");
      });
      return seen;
    };
    const email = await signUp(page);
    const connection = await verifiedConnection(page, "Instances", "read-write");
    const folder = await seededFolder(page, connection);

    // Signed in through one instance, every page works through either.
    const pages = new Set<string>();
    for (let i = 0; i < 6 && pages.size < 2; i++) {
      const shown = await page.goto(folder);
      pages.add(shown!.headers()["x-served-by"]);
      await expect(page.getByRole("link", { name: email })).toBeVisible();
      await expect(page.getByRole("link", { name: "hello.txt", exact: true })).toBeVisible();
    }
    expect([...pages].sort()).toEqual(instances.map((i) => new URL(i).host).sort());

    // A multipart upload (5 parts, signed four at a time) whose part URLs come from both.
    const signed = servedBy("/api/upload_parts");
    const completed = servedBy("/api/upload_complete");
    await page.getByLabel("Upload files").setInputFiles([file("large.bin", 40 * 1024 * 1024)]);
    await expect(page.locator("li.upload")).toHaveAttribute("data-state", "done", { timeout: 60_000 });
    expect(new Set(signed).size, `part URLs signed by ${signed}`).toBe(2);
    expect(completed).toHaveLength(1);
    const key = `${new URL(page.url()).pathname.split("/").slice(4).join("/")}large.bin`;
    expect(world("head", "--bucket", bucket, "--key", decodeURIComponent(key))).toMatch(/-5"$/);

    // A share link made through the balancer opens on each instance.
    await page.goto(`/c/${connection}/${bucket}/preview/?object=${encodeURIComponent(folder.split("/")[4] + "/hello.txt")}`);
    await page.getByRole("button", { name: "Create share link" }).click();
    const link = new URL((await page.locator(".share-link code").textContent())!);
    const stranger = await browser.newContext();
    for (const instance of instances) {
      const opened = await stranger.request.get(`${instance}${link.pathname}/download`);
      expect(await opened.text(), instance).toBe("hello from the smoke walk");
    }
    await stranger.close();

    // The sign-in limit (5 per email) counts attempts on both instances together.
    const statuses: number[] = [];
    const limited = `limited-${Date.now()}@example.com`;
    for (let i = 0; i < 6; i++) {
      const instance = instances[i % 2];
      const answer = await page.request.post(`${instance}/api/sign_in`, {
        form: { email: limited, password: "not the password at all", next: "" },
        headers: { Accept: "application/json", "Sec-Fetch-Site": "same-origin" },
      });
      statuses.push(answer.status());
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);

    // Signing out on one instance ends the session on the other (cookies ignore the port).
    await page.goto(`${instances[0]}/`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await page.goto(`${instances[1]}${folder}`);
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    expect(new URL(page.url()).pathname).toBe("/sign-in");
  });
});
