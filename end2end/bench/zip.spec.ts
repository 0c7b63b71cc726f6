import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { readAll, signUp, verifiedConnection, world } from "../tests/helpers";

// Zip throughput in Chromium (scripts/bench.sh --zip): a folder of many small files and a folder
// of one large file, each zipped by the browser from presigned GETs to the strict stand-in and
// written as it goes to a file (the File System Access API, answered by the origin's private file
// system). Reports MiB/s, files/s and the tab's peak memory (the renderer processes' resident
// set) above what it held before the zip began: flat memory means that peak does not grow with
// the archive. BENCH_ZIP_FILES (default 2000) small files of 16 KiB; BENCH_ZIP_MIB (default
// 5120) MiB for the large one.

const FILES = Number(process.env.BENCH_ZIP_FILES ?? 2000);
const LARGE_MIB = Number(process.env.BENCH_ZIP_MIB ?? 5120);
const bucket = "cv-transfers";

/** The resident memory of Chromium's renderer processes, in MiB (Linux /proc). */
function rendererMib(): number {
  let kib = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("--type=renderer")) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      kib += Number(rss?.[1] ?? 0);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return kib / 1024;
}

/** Writes `mib` MiB of varying bytes to a new file, a MiB at a time; returns its folder. */
function largeFolder(mib: number): string {
  const dir = mkdtempSync(join(tmpdir(), "crossview-zip-bench-"));
  const fd = openSync(join(dir, "large.bin"), "w");
  const chunk = Buffer.alloc(1 << 20);
  for (let m = 0; m < mib; m++) {
    chunk.writeUInt32LE(m, 0);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  return dir;
}

function smallFolder(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), "crossview-zip-bench-"));
  const body = Buffer.alloc(16 << 10, 7);
  for (let i = 0; i < files; i++) {
    const fd = openSync(join(dir, `file-${String(i).padStart(6, "0")}.bin`), "w");
    writeSync(fd, body);
    closeSync(fd);
  }
  return dir;
}

async function zipFolder(page: Page, href: string, folder: string, label: string) {
  await page.goto(`${href}/${folder}/`);
  await expect(page.getByRole("button", { name: "Download all as zip" })).toBeEnabled();
  await page.waitForLoadState("networkidle");
  const before = rendererMib();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rendererMib())), 200);
  const start = Date.now();
  await page.getByRole("button", { name: "Download all as zip" }).click();
  const report = page.getByRole("status", { name: "Zip download" });
  await expect(report).toHaveAttribute("data-state", "saved", { timeout: 3_600_000 });
  const seconds = (Date.now() - start) / 1000;
  clearInterval(sampler);
  const size = await page.evaluate(async (name) => {
    const root = await navigator.storage.getDirectory();
    const file = await (await root.getFileHandle(name)).getFile();
    const size = file.size;
    await root.removeEntry(name);
    return size;
  }, `${folder}.zip`);
  const files = Number(/of (\d+) files/.exec((await report.textContent()) ?? "")?.[1] ?? 0);
  console.log(
    `zip, ${label}: ${files} files, ${(size / 1048576).toFixed(1)} MiB in ${seconds.toFixed(1)} s: ` +
      `${(size / 1048576 / seconds).toFixed(1)} MiB/s, ${(files / seconds).toFixed(0)} files/s; ` +
      `renderer memory ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)})`,
  );
}

test("zip throughput and memory: many small files, one large file", async ({ page }) => {
  test.setTimeout(4 * 3_600_000);
  await page.addInitScript(() => {
    (window as any).showSaveFilePicker = async (options: { suggestedName: string }) => {
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle(options.suggestedName, { create: true });
    };
  });
  await signUp(page);
  const id = await verifiedConnection(page, "Zip bench", readAll);
  const href = `/c/${id}/${bucket}`;
  const run = `zip-bench-${Date.now()}`;
  world("putdir", "--bucket", bucket, "--prefix", `${run}-small/`, "--dir", smallFolder(FILES));
  await zipFolder(page, href, `${run}-small`, `${FILES} files of 16 KiB`);
  world("putdir", "--bucket", bucket, "--prefix", `${run}-large/`, "--dir", largeFolder(LARGE_MIB));
  await zipFolder(page, href, `${run}-large`, `one file of ${LARGE_MIB} MiB`);
});
