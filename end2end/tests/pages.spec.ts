import { expect, test, type Page } from "@playwright/test";
import { brokenWords, copy, createRoleInStandIn, readAll, signUp, verifiedConnection, world } from "./helpers";

// The pages people live in: feedback on every wait, actions that match what the connection
// allows, big folders that stay light, and tables that read well at 1280 and 390 px.

test.beforeEach(async ({ context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
});

const toolbar = (page: Page) => page.getByRole("toolbar", { name: "Folder actions" });

test("verification shows its steps and the wait for AWS, cannot be sent twice, and says what comes next", async ({ page }) => {
  await signUp(page);
  await page.goto("/connections/new");
  await page.getByLabel("Name", { exact: true }).fill("Slow to appear");
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByRole("heading", { name: "Slow to appear", level: 1 })).toBeVisible();

  // A role that does not exist yet: AWS refuses it while Crossview waits for it to propagate.
  // The page waits for the answer of a plain form post, and Playwright's locators wait for that
  // navigation: the page itself reports what it shows meanwhile, and tries to send it again.
  const seen: { button: string; disabled: boolean; steps: string }[] = [];
  await page.exposeFunction("report", (state: (typeof seen)[number]) => seen.push(state));
  let posts = 0;
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/api/connection_role")) posts++;
  });
  await page.evaluate(() => {
    const report = (window as unknown as { report: (s: object) => void }).report;
    let again = false;
    new MutationObserver(() => {
      const button = [...document.querySelectorAll("button")].find((b) => /verif/i.test(b.textContent ?? ""));
      const steps = document.querySelector('[aria-label="Verification"]');
      report({ button: button?.textContent ?? "", disabled: !!button?.disabled, steps: steps?.textContent ?? "" });
      if (!again && button?.textContent === "Verifying…") {
        again = true;
        setTimeout(() => button.closest("form")!.requestSubmit(), 50);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.getByLabel("Role ARN").fill(`arn:aws:iam::123456789012:role/not-yet-${Date.now()}`);
  await page.getByRole("button", { name: "Save and verify" }).click();
  // The answer replaces the page: the failure, announced, with the fix.
  await expect(page.getByRole("heading", { name: "Verification failed" })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Verification finished" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Save and verify" })).toBeEnabled();
  const waiting = seen.filter((s) => s.button === "Verifying…");
  expect(waiting.length, JSON.stringify(seen)).toBeGreaterThan(0);
  expect(waiting.every((s) => s.disabled)).toBe(true);
  expect(waiting.some((s) => s.steps.includes("Assume the role with this connection's ExternalId"))).toBe(true);
  expect(waiting.some((s) => /Waiting for AWS to apply it: \d of 2 s\./.test(s.steps)), JSON.stringify(waiting)).toBe(true);
  expect(posts, "sent once, though the page tried again").toBe(1);

  // The real role: verified, and the page says what comes next.
  const trust = await copy(page, "Copy trust policy");
  const arn = createRoleInStandIn(`e2e-steps-${Date.now()}`, trust, readAll);
  await page.getByLabel("Role ARN").fill(arn);
  await page.getByRole("button", { name: "Save and verify" }).click();
  const verified = page.getByRole("region", { name: "Verified" });
  await expect(verified).toContainText("only with this connection's ExternalId");
  await verified.getByRole("link", { name: "Open its buckets" }).click();
  await expect(page.getByRole("heading", { name: "Buckets", level: 1 })).toBeVisible();
});

test("a read-only connection offers no change, says why, and read-write offers them back", async ({ page }) => {
  await signUp(page);
  const id = await verifiedConnection(page, "Look only", "read-write", "read-only");
  await expect(page.locator("dl.facts")).toContainText("read-only");

  await page.goto(`/c/${id}/cv-transfers/preview/`);
  for (const action of ["Upload", "Create folder", "Rename", "Delete"]) {
    const button = toolbar(page).getByRole("button", { name: action, exact: true });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute("title", "This connection is read-only");
  }
  await expect(page.locator("#locked-why")).toHaveText(/^This connection is read-only: you may browse and download here/);
  await expect(page.getByText("Upload files")).toHaveCount(0);
  await page.getByRole("link", { name: "notes.txt", exact: true }).click();
  await expect(page.getByRole("button", { name: "Rename / move" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Copy to…" })).toBeDisabled();
  // The share link still works: reading is allowed.
  await expect(page.getByRole("button", { name: "Create share link" })).toBeEnabled();

  // The owner makes it read-write: the change is confirmed, and the actions come back.
  await page.goto(`/connections/${id}`);
  await page.getByRole("radio", { name: /^Read and write/ }).check();
  await page.getByRole("button", { name: "Save access" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved: what Crossview may do" })).toBeVisible();
  await page.goto(`/c/${id}/cv-transfers/preview/`);
  await expect(toolbar(page).getByRole("button", { name: "Create folder" })).toBeEnabled();
  // Delete waits for a selection, and says so.
  const remove = toolbar(page).getByRole("button", { name: "Delete", exact: true });
  await expect(remove).toBeDisabled();
  await expect(remove).toHaveAttribute("title", "Select what to delete first");
  await page.getByLabel("Select notes.txt").check();
  await expect(remove).toBeEnabled();
  await expect(toolbar(page)).toContainText("1 selected");
});

test("a role that may write but not delete: the check lets the page offer changes, and AWS's refusal names the permission", async ({ page }) => {
  await signUp(page);
  // Reads and writes, but no s3:DeleteObject: the probe finds writes allowed.
  const noDelete = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject", "s3:PutObject"],
      Resource: "*",
    }],
  });
  const id = await verifiedConnection(page, "No deletes", noDelete);
  await expect(page.locator("#writes-learned")).toHaveText(/^Everywhere the check probed \(\d+ places\)$/);
  const folder = `kept-${Date.now()}`;
  world("put", "--bucket", "cv-work", "--key", `${folder}/stays.txt`, "--body", "stays");
  await page.goto(`/c/${id}/cv-work/${folder}/`);
  await expect(toolbar(page).getByRole("button", { name: "Create folder" })).toBeEnabled();
  await page.getByLabel("Select stays.txt").check();
  await toolbar(page).getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByText("the role may not delete it (s3:DeleteObject)")).toBeVisible();
  await expect(page.getByRole("link", { name: "stays.txt", exact: true })).toBeVisible();
});

test("a big folder: 100 a page by default, counted, pagers top and bottom, the size chosen, everything selectable", async ({ page }) => {
  await signUp(page);
  const id = await verifiedConnection(page, "Big and light", "read-write");
  await page.goto(`/c/${id}/cv-big`);
  const rows = page.locator("table.listing tbody tr");
  await expect(rows).toHaveCount(100);
  await expect(page.locator("#listing-count")).toHaveText(/^0 folders · 100 objects · .+ on this page$/);
  const top = page.getByRole("navigation", { name: "Pages, top" });
  const bottom = page.getByRole("navigation", { name: "Pages, bottom" });
  await expect(top).toContainText("Page 1");
  await expect(bottom).toContainText("Page 1");
  await top.getByRole("link", { name: "Next →" }).click();
  await expect(top).toContainText("Page 2");
  await expect(rows.first()).toContainText("key-00100.txt");

  // Select the page, then everything in the folder, for the bulk actions.
  await page.getByLabel("Select every entry on this page").check();
  await expect(toolbar(page)).toContainText("100 selected");
  await page.getByRole("button", { name: "Select everything in this folder" }).click();
  await expect(toolbar(page)).toContainText("Everything in this folder selected");
  await page.getByRole("button", { name: "Only this page" }).click();
  await expect(toolbar(page)).toContainText("100 selected");
  await page.getByLabel("Select every entry on this page").uncheck();
  await expect(toolbar(page).getByRole("button", { name: "Delete", exact: true })).toBeDisabled();

  // 1,000 a page, chosen by the user: the URL keeps it.
  await page.getByRole("navigation", { name: "Entries a page" }).getByRole("link", { name: "1000" }).click();
  await expect(page).toHaveURL(/per=1000/);
  await expect(rows).toHaveCount(1000);
  await bottom.getByRole("link", { name: "Next →" }).click();
  await expect(rows.first()).toContainText("key-01000.txt");
  await expect(page).toHaveURL(/per=1000/);

  // The bucket's address with a trailing slash is the same page (sent to its own address), 200.
  const answer = await page.goto(`/c/${id}/cv-big/?per=250`);
  expect(answer!.status()).toBe(200);
  expect(answer!.request().redirectedFrom()!.url()).toMatch(/\/cv-big\/\?per=250$/);
  await expect(page).toHaveURL(new RegExp(`/c/${id}/cv-big\\?per=250$`));
  await expect(rows).toHaveCount(250);
});

for (const width of [1280, 390]) {
  test(`no word is broken mid-way at ${width} px: folders, objects, connections, audit`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await signUp(page);
    const id = await verifiedConnection(page, "Words stay whole", readAll);
    for (const path of [`/c/${id}/cv-mixed/walk/one/two/three/`, `/c/${id}/cv-big`, `/c/${id}/cv-mixed/?object=walk%2Fone%2Ftwo%2Fthree%2Freport.csv`, "/", `/connections/${id}`, "/shares"]) {
      await page.goto(path);
      await page.waitForLoadState("networkidle");
      expect(await brokenWords(page), path).toEqual([]);
    }
    // At phone width the folder is a list: each entry's name, then its size and date, on two lines.
    if (width === 390) {
      await page.goto(`/c/${id}/cv-big`);
      const first = page.locator("table.listing tbody tr").first();
      const name = await first.locator("td.name").boundingBox();
      const size = await first.locator("td.size").boundingBox();
      expect(size!.y).toBeGreaterThan(name!.y + name!.height - 2);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    }
  });
}

test("sign-in says what Crossview is, and goes to sign-up and back without reloading", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.locator(".tagline")).toHaveText(/Browse S3 in all your AWS accounts/);
  await page.waitForLoadState("networkidle");
  await page.evaluate(() => ((window as unknown as { kept: number }).kept = 42));
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
  await page.getByRole("link", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Sign in", level: 1 })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { kept?: number }).kept)).toBe(42);
  // The page that came back works as a loaded one: its passkey button is there, Back and
  // Forward move between the two, still without a reload.
  await expect(page.getByRole("button", { name: "Use a passkey" })).toBeVisible();
  await page.goBack();
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
  await expect(page).toHaveTitle(/Create your account/);
  await page.goForward();
  await expect(page.getByRole("heading", { name: "Sign in", level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in$/);
  expect(await page.evaluate(() => (window as unknown as { kept?: number }).kept)).toBe(42);
});
