import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { signUp, verifiedConnection, world } from "./helpers";

// The zip is built in the browser from presigned GETs to the strict stand-in; nothing of the
// objects passes through Crossview. Each archive is read back with Python's zipfile and compared
// byte for byte with the files the folder was seeded from.
const bucket = "cv-transfers";

test.beforeEach(async ({ page }) => {
  page.on("pageerror", (err) => console.log(`page error: ${err.message}`));
});

async function connect(page: Page): Promise<string> {
  await signUp(page);
  const id = await verifiedConnection(page, "Zips", "read-write");
  return `/c/${id}/${bucket}`;
}

const run = () => `zip-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/** Bytes that differ from file to file (and within one), so a mix-up cannot pass. */
function bytes(n: number, seed: number): Buffer {
  const data = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) data.writeUInt32LE(((i * 2654435761) ^ seed) >>> 0, i);
  return data;
}

/** Writes `files` (path → bytes) into a new temporary folder; returns it. */
function folderOf(files: Map<string, Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), "crossview-zip-"));
  for (const [path, data] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), data);
  }
  return dir;
}

/** Reads the archive with Python's zipfile (CRCs checked) and compares every file with `dir`;
 *  returns the archive's file names, sorted. */
function checkZip(zip: string, dir: string): string[] {
  const check = `
import pathlib, sys, zipfile
archive, root = zipfile.ZipFile(sys.argv[1]), pathlib.Path(sys.argv[2])
names = sorted(i.filename for i in archive.infolist() if not i.is_dir())
assert archive.testzip() is None, "a CRC does not match"
for name in names:
    assert archive.read(name) == (root / name).read_bytes(), name
print("\\n".join(names))
`;
  return execFileSync("python3", ["-c", check, zip, dir], { encoding: "utf8" }).trim().split("\n");
}

test("a folder of 300 files, nested, with unicode names and one of 70 MiB, zipped in the browser and compared byte for byte", async ({ page }, info) => {
  test.setTimeout(240_000);
  const href = await connect(page);
  const folder = run();
  const files = new Map<string, Buffer>();
  const names = ["東京 report.txt", "😀 emoji.txt", "a+b %20 c.txt", "<script>x</script>.txt", "plain.csv"];
  for (let i = 0; i < 299; i++) {
    const path = `${["", "a/", "a/b/", "ü/日本/", "deep/er/est/"][i % 5]}${i}-${names[i % names.length]}`;
    files.set(path, bytes(100 + (i * 37) % 5000, i));
  }
  files.set("big/video.bin", bytes(70 << 20, 7));
  const dir = folderOf(files);
  world("putdir", "--bucket", bucket, "--prefix", `${folder}/`, "--dir", dir);

  // No File System Access API here: the archive is streamed as a download through the service
  // worker, written as it is made.
  await page.addInitScript(() => delete (window as any).showSaveFilePicker);
  await page.goto(`${href}/${folder}/`);
  await expect(page.getByRole("heading", { name: folder, level: 1 })).toBeVisible();
  const downloading = page.waitForEvent("download", { timeout: 200_000 });
  await page.getByRole("button", { name: "Download all as zip" }).click();
  const report = page.getByRole("status", { name: "Zip download" });
  await expect(report).toHaveAttribute("data-state", "saved", { timeout: 200_000 });
  await expect(report).toContainText(`Saved ${folder}.zip: 300 of 300 files`);
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`${folder}.zip`);
  expect(download.url()).toMatch(/\/stream\/download\/[0-9a-f-]+\//);
  const zip = info.outputPath("folder.zip");
  await download.saveAs(zip);
  expect(checkZip(zip, dir)).toEqual([...files.keys()].sort());
});

test("without a way to write as it goes, the zip is kept in memory and saved at the end", async ({ page }, info) => {
  const href = await connect(page);
  const folder = run();
  const files = new Map<string, Buffer>([["one.txt", bytes(1000, 1)], ["sub/two 東京.bin", bytes(300_000, 2)]]);
  const dir = folderOf(files);
  world("putdir", "--bucket", bucket, "--prefix", `${folder}/`, "--dir", dir);
  await page.addInitScript(() => {
    delete (window as any).showSaveFilePicker;
    delete (Navigator.prototype as any).serviceWorker;
  });
  await page.goto(`${href}/${folder}/`);
  await expect(page.getByRole("heading", { name: folder, level: 1 })).toBeVisible();
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download all as zip" }).click();
  const download = await downloading;
  expect(download.url()).toMatch(/^blob:/);
  const zip = info.outputPath("memory.zip");
  await download.saveAs(zip);
  expect(checkZip(zip, dir)).toEqual([...files.keys()].sort());
});

test("a selection is zipped into a file as it is made; what cannot be read is left out and listed", async ({ page }) => {
  const href = await connect(page);
  const folder = run();
  const files = new Map<string, Buffer>([
    ["one.txt", bytes(1000, 1)],
    ["two/inner.txt", bytes(2000, 2)],
    ["three.txt", bytes(10, 3)],
  ]);
  const dir = folderOf(files);
  world("putdir", "--bucket", bucket, "--prefix", `${folder}/`, "--dir", dir);
  world("put", "--bucket", bucket, "--key", `${folder}/two/cold.txt`, "--body", "cold", "--storage-class", "GLACIER");

  // The save dialog answers with a file in the origin's private file system: a real
  // FileSystemFileHandle, written as the archive grows.
  await page.addInitScript(() => {
    (window as any).showSaveFilePicker = async (options: { suggestedName: string }) => {
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle(options.suggestedName, { create: true });
    };
  });
  await page.goto(`${href}/${folder}/`);
  await page.getByRole("checkbox", { name: "Select one.txt" }).check();
  await page.getByRole("checkbox", { name: "Select two/" }).check();
  await page.getByRole("button", { name: "Download 2 as zip" }).click();
  const report = page.getByRole("status", { name: "Zip download" });
  await expect(report).toHaveAttribute("data-state", "saved");
  await expect(report).toContainText(`Saved ${folder}.zip: 2 of 2 files`);
  await report.getByText("1 left out").click();
  await expect(report.getByRole("listitem")).toContainText(`${folder}/two/cold.txt: it is archived in GLACIER`);

  const base64 = await page.evaluate(async (name) => {
    const root = await navigator.storage.getDirectory();
    const file = await (await root.getFileHandle(name)).getFile();
    const data = new Uint8Array(await file.arrayBuffer());
    let text = "";
    for (const b of data) text += String.fromCharCode(b);
    return btoa(text);
  }, `${folder}.zip`);
  const zip = join(mkdtempSync(join(tmpdir(), "crossview-zip-")), "selection.zip");
  writeFileSync(zip, Buffer.from(base64, "base64"));
  expect(checkZip(zip, dir)).toEqual(["one.txt", "two/inner.txt"]);
});
