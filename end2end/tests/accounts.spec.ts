import { expect, test, type Page } from "@playwright/test";

import { password, signUp } from "./helpers";

// Unique per run, so the suite also passes against a database that has seen earlier runs.
const email = `person-${Date.now()}@example.com`;

async function waitForHydration(page: Page) {
  // The wasm bundle marks nothing visible; waiting for the network to settle is the honest signal.
  await page.waitForLoadState("networkidle");
}

test("sign up, see the shell, sign out, sign in again", async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

  // A page that needs a session sends an anonymous visitor to sign-in.
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/sign-in\?next=\/admin$/);

  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();

  // Bad input is refused with a clear message.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByLabel("Password").evaluate((el) => el.removeAttribute("minlength"));
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert")).toHaveText("Use a password of at least 12 characters.");

  // Long enough, yet among the first a guesser tries: refused, saying why.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("password1234");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert")).toContainText("That password is too easy to guess");

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();

  // The shell: who is signed in, navigation, sign-out.
  await expect(page.getByRole("heading", { name: "Connections", level: 1 })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Connections" })).toBeVisible();
  await expect(page.getByRole("link", { name: email })).toBeVisible();
  await waitForHydration(page);
  await page.screenshot({ path: testInfo.outputPath("shell.png"), fullPage: true });
  await testInfo.attach("shell", { path: testInfo.outputPath("shell.png"), contentType: "image/png" });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  // Signed out means signed out: the shell is gone for good.
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect.");

  await page.getByLabel("Email").fill(email.toUpperCase());
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("link", { name: email })).toBeVisible();

  expect(errors, "no script errors (hydration, CSP)").toEqual([]);
});

test("forms work before hydration too", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill("nobody@example.com");
  await page.getByLabel("Password").fill("whatever it is");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect.");
  await context.close();
});

test("the pages before signing in and shared links load no application; the app's links to them load them whole", async ({ page }) => {
  const scripts: string[] = [];
  page.on("request", (r) => /\/pkg\/.*\.(js|wasm)$/.test(r.url()) && scripts.push(new URL(r.url()).pathname));
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // An unknown share link is answered 404 on purpose, which the console reports as a failed load.
  page.on("console", (m) => m.type() === "error" && !m.text().includes("status of 404") && errors.push(m.text()));

  for (const [path, heading] of [
    ["/sign-in", "Sign in"],
    ["/sign-up", "Create your account"],
    ["/forgot", "Reset your password"],
    ["/s/no-such-link", "This link does not work"],
  ]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
    await page.waitForLoadState("networkidle");
  }
  expect(scripts, "a first visit is the page and its stylesheet").toEqual([]);

  // Signed in, the app is loaded and hydrated (the counting above does see it).
  await signUp(page);
  await page.waitForLoadState("networkidle");
  expect(scripts.some((s) => s.endsWith(".wasm"))).toBe(true);

  // A link inside the app to such a page (the router takes the click) loads it from the server.
  await page.evaluate(() => {
    const link = document.createElement("a");
    link.href = "/s/no-such-link";
    link.textContent = "a shared link";
    document.querySelector("main")!.append(link);
  });
  await page.getByRole("link", { name: "a shared link" }).click();
  await expect(page.getByRole("heading", { name: "This link does not work", level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/s\/no-such-link$/);
  await page.goBack();
  await expect(page.getByRole("heading", { name: "Connections", level: 1 })).toBeVisible();
  expect(errors, "no script errors (CSP, hydration)").toEqual([]);
});
