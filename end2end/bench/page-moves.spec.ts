import { expect, test, type Page } from "@playwright/test";
import { readAll, signUp, verifiedConnection } from "../tests/helpers";

// In-app page moves in a big folder (scripts/bench.sh --pages): from the click on Next or
// Previous to the new page's rows drawn, timed in the page itself, for 100 and 1,000 rows.

const MOVES = 20;

/** Clicks `label` in the bottom pager; resolves with the milliseconds until `expected` leads the table. */
function move(page: Page, label: string, expected: string): Promise<number> {
  return page.evaluate(
    ([label, expected]) =>
      new Promise<number>((resolve) => {
        const link = [...document.querySelectorAll<HTMLAnchorElement>('nav[aria-label="Pages, bottom"] a')].find((a) =>
          a.textContent!.includes(label),
        )!;
        const start = performance.now();
        link.click();
        const drawn = () => {
          const first = document.querySelector<HTMLElement>("table.listing tbody tr");
          if (first?.dataset.key === expected) requestAnimationFrame(() => resolve(performance.now() - start));
          else requestAnimationFrame(drawn);
        };
        drawn();
      }),
    [label, expected],
  );
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

test("in-app page moves, 100 and 1,000 rows", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page);
  const id = await verifiedConnection(page, "Page moves", readAll);
  for (const per of [100, 1000]) {
    await page.goto(`/c/${id}/cv-big?per=${per}`);
    await expect(page.locator("table.listing tbody tr")).toHaveCount(per);
    await page.waitForLoadState("networkidle");
    const second = `key-${String(per).padStart(5, "0")}.txt`;
    const times: number[] = [];
    for (let i = 0; i < MOVES; i++) {
      const forward = i % 2 === 0;
      times.push(await move(page, forward ? "Next" : "Previous", forward ? second : "key-00000.txt"));
    }
    times.sort((a, b) => a - b);
    const line = `page move, ${per} rows: p50 ${quantile(times, 0.5).toFixed(0)} ms, p90 ${quantile(times, 0.9).toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms (${MOVES} moves)`;
    console.log(line);
  }
});
