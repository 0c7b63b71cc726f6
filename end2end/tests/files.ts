import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A file of `bytes` bytes named `name` in a new temporary folder; returns its path. */
export function file(name: string, bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), "crossview-"));
  const path = join(dir, name);
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4096) data.writeUInt32LE((i ^ 0x9e3779b9) >>> 0, i);
  writeFileSync(path, data);
  return path;
}
