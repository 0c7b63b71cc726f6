import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The browser benchmarks (scripts/bench.sh --pages): the suite's browser, its own folder.
export default defineConfig({ ...base, testDir: "./bench", timeout: 300_000 });
