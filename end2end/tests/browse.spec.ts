import { expect, test, type Page } from "@playwright/test";
import { password, readAll, signUp, verifiedConnection } from "./helpers";

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
  await expect(rows).toHaveCount(100);
  await page.getByRole("navigation", { name: "Entries a page" }).getByRole("link", { name: "1000" }).click();
  await expect(rows).toHaveCount(1000);
  await expect(rows.first()).toContainText("key-00000.txt");

  const pager = page.getByRole("navigation", { name: "Pages, bottom" });
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

// What the attacker's link in the issue carries: a prefix that closes <title> and adds a
// <meta http-equiv="refresh"> to another site.
const hostilePrefix = '</title><meta http-equiv="refresh" content="0;url=https://evil.example/">/';
const hostileLink = `/c/999/any-bucket?prefix=${encodeURIComponent(hostilePrefix)}`;

/** Collects what would show that hydration broke: uncaught errors and panics in the console. */
function hydrationProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && /panicked|unreachable/i.test(msg.text())) problems.push(msg.text());
  });
  return problems;
}

/** The page is still ours, the text stayed text, and hydration finished without a panic. */
async function stayedInert(page: Page, problems: string[], title: string) {
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(1500); // longer than the refresh's 0 s, in case it were there
  expect(new URL(page.url()).host).toBe(new URL(process.env.CROSSVIEW_URL ?? "http://127.0.0.1:3000").host);
  // (The attacker's URL names evil.example in its own query; what matters is where the page is.)
  expect(await page.title()).toBe(`${title} · Crossview`);
  await expect(page.locator("meta[http-equiv]")).toHaveCount(0);
  await expect(page.locator("img#x")).toHaveCount(0);
  expect(problems).toEqual([]);
  // Hydrated: the client-side router handles a link (a full load would reset this marker).
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
  await page.getByRole("link", { name: "Shared links" }).click();
  await expect(page.getByRole("heading", { name: "Shared links", level: 1 })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
}

test("a link whose prefix closes the <title> neither navigates away nor breaks hydration", async ({ page }) => {
  const problems = hydrationProblems(page);
  await signUp(page);
  await page.goto(hostileLink);
  await stayedInert(page, problems, `any-bucket/${hostilePrefix}`);
});

test("the same link opened signed out fires nothing after signing in", async ({ page, browser }) => {
  const email = await signUp(page);
  const visitor = await browser.newPage();
  const problems = hydrationProblems(visitor);
  await visitor.goto(hostileLink);
  await expect(visitor).toHaveURL(/\/sign-in\?next=/);
  await visitor.getByLabel("Email").fill(email);
  await visitor.getByLabel("Password").fill(password);
  await visitor.getByRole("button", { name: "Sign in" }).click();
  await expect(visitor).toHaveURL(/\/c\/999\/any-bucket\?prefix=/);
  await stayedInert(visitor, problems, `any-bucket/${hostilePrefix}`);
  await visitor.close();
});

test("a key that closes the <title> stays text on its folder and its own page", async ({ page }) => {
  const problems = hydrationProblems(page);
  await signUp(page);
  await verifiedConnection(page, "Hostile keys", readAll);
  await openBucket(page, "cv-mixed");
  await entry(page, "tricky/").click();
  await entry(page, "</").click();
  // The folder `tricky/</` is named `<` (the part before its closing `/`).
  await expect(page.getByRole("heading", { name: "<", exact: true, level: 1 })).toBeVisible();
  expect(await page.title()).toBe("cv-mixed/tricky/</ · Crossview");
  const name = `title><meta http-equiv="refresh" content="0;url=https:evil.example"><img id=x src=x onerror=alert(1)> "q" 'a' & b.txt`;
  await entry(page, name).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await page.reload(); // the server-rendered page, as a shared link would open it
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await stayedInert(page, problems, `tricky/</${name}`);
});
