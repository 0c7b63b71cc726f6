import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { signedInAdmin, verifiedConnection } from "./helpers";

// Every kind of page, light and dark, at 1280 and 390 px: axe finds nothing, of any impact.

const variants = [
  { width: 1280, scheme: "light" },
  { width: 1280, scheme: "dark" },
  { width: 390, scheme: "light" },
  { width: 390, scheme: "dark" },
] as const;

async function violations(page: Page, path: string): Promise<string[]> {
  await page.goto(path);
  await page.waitForLoadState("networkidle");
  const found = await new AxeBuilder({ page }).analyze();
  return found.violations.map(
    (v) => `${path}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`,
  );
}

test("axe finds no violation on any kind of page, light or dark, at 1280 or 390 px", async ({ page, browser }) => {
  test.setTimeout(300_000);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  const email = await signedInAdmin(page);
  const id = await verifiedConnection(page, "Accessible", "read-write");
  // A share link, for its landing page.
  await page.goto(`/c/${id}/cv-transfers/preview/?object=preview%2Fnotes.txt`);
  await page.getByRole("button", { name: "Create share link" }).click();
  const link = new URL((await page.locator(".share-link code").textContent())!).pathname;
  const user = await page.evaluate(async (address) => {
    const found = await fetch(`/admin/users?email=${encodeURIComponent(address)}`);
    return (await found.text()).match(/\/admin\/users\/(\d+)/)?.[1];
  }, email);

  const signedIn = [
    "/",
    "/connections/new",
    `/connections/${id}`,
    `/c/${id}`,
    `/c/${id}/cv-mixed/walk/one/two/three/`,
    `/c/${id}/cv-big`,
    `/c/${id}/cv-mixed/?object=walk%2Fone%2Ftwo%2Fthree%2Freport.csv`,
    "/shares",
    "/notices",
    "/account",
    "/admin",
    "/admin/users",
    `/admin/users/${user}`,
    "/admin/connections",
    `/admin/connections/${id}`,
    "/admin/audit",
    "/no-such-page",
  ];
  const anonymous = ["/sign-in", "/sign-up", "/forgot", link, "/s/" + "0".repeat(64)];
  const strangers = await browser.newContext();
  const stranger = await strangers.newPage();
  const found: string[] = [];
  for (const { width, scheme } of variants) {
    for (const p of [page, stranger]) {
      await p.setViewportSize({ width, height: 900 });
      await p.emulateMedia({ colorScheme: scheme });
    }
    for (const path of signedIn) found.push(...(await violations(page, path)).map((v) => `${width} ${scheme} ${v}`));
    for (const path of anonymous) found.push(...(await violations(stranger, path)).map((v) => `${width} ${scheme} ${v}`));
  }
  await strangers.close();
  expect(found).toEqual([]);
});

test("the audit trail: dotted names, one line a row, details on expanding it", async ({ page }) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.setViewportSize({ width: 1280, height: 900 });
  const email = await signedInAdmin(page);
  await verifiedConnection(page, "Audited", "read-only");
  await page.goto(`/admin/audit?actor=${encodeURIComponent(email)}`);
  const rows = page.locator("table.audit tbody tr");
  await expect(rows.first()).toBeVisible();
  const actions = await rows.locator("td:nth-child(3)").allTextContents();
  expect(actions.length).toBeGreaterThan(3);
  for (const action of actions) expect(action).toMatch(/^[a-z_]+\.[a-z_]+$/);
  expect(actions).toContain("connection.verify");
  for (const height of await rows.evaluateAll((all) => all.map((r) => r.getBoundingClientRect().height))) {
    expect(height).toBeLessThan(48);
  }
  // One set of outcome labels, and the refusals say why.
  await expect(page.locator("table.audit .badge.refused").first()).toHaveText(/^Refused · TrustDenied$/);
  await expect(page.locator("table.audit .badge.ok").first()).toHaveText("OK");
  // The rest of a row on expanding it.
  const first = rows.filter({ hasText: "connection.verify" }).first();
  await first.getByText("Details").click();
  await expect(first.locator("dl.facts")).toContainText("AWS request");
  await expect(first.locator("dl.facts")).toContainText("with_external_id");
});
