#!/usr/bin/env bash
# Builds Vercel's Build Output (v3) in .vercel/output, for `vercel deploy --prebuilt`:
#   static/pkg/…              the site's content-hashed files, for Vercel's CDN (which compresses
#                             them itself: the .br/.gz copies stay behind)
#   functions/index.func/     the `vercel` entry binary as an `executable` (Rust) function, with
#                             the assets' hash list beside it so pages name the hashed files
#   config.json               /pkg/* kept for a year; any file in static/ first; everything else
#                             to the function, which sees the request's own path
# --no-build packages what target/ already holds (scripts/test.sh has just built it).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ "${1:-}" != "--no-build" ]; then
  ensure_rust_tools
  ensure_node_tools
  cargo leptos build --release --precompress
  cargo build --release --bin vercel
fi

out=.vercel/output
func="$out/functions/index.func"
rm -rf "$out"
mkdir -p "$out/static" "$func"
(cd target/site && find . -type f ! -name '*.br' ! -name '*.gz' -print0 |
  xargs -0 -I{} install -D -m 644 {} "$ROOT/$out/static/{}")
# Vercel runs functions on Amazon Linux 2023 (glibc 2.34): a binary asking for newer symbols
# would not load there.
newest=$(objdump -T "$CARGO_TARGET_DIR/release/vercel" | grep -oE 'GLIBC_[0-9.]+' | sort -Vu | tail -n 1)
if [ "$(printf '%s\nGLIBC_2.34\n' "$newest" | sort -V | tail -n 1)" != GLIBC_2.34 ]; then
  echo "the vercel binary needs $newest; Vercel's image has GLIBC_2.34 (build there, or with cargo zigbuild)" >&2
  exit 1
fi
install -m 755 "$CARGO_TARGET_DIR/release/vercel" "$func/executable"
install -m 644 "$CARGO_TARGET_DIR/release/hash.txt" "$func/hash.txt"

cat >"$func/.vc-config.json" <<'JSON'
{
  "runtime": "executable",
  "handler": "executable",
  "runtimeLanguage": "rust",
  "architecture": "x86_64",
  "supportsResponseStreaming": true,
  "maxDuration": 60
}
JSON

cat >"$out/config.json" <<'JSON'
{
  "version": 3,
  "routes": [
    {
      "src": "^/pkg/(.*)$",
      "headers": { "cache-control": "public, max-age=31536000, immutable" },
      "continue": true
    },
    { "handle": "filesystem" },
    { "src": "^/(.*)$", "dest": "/index" }
  ]
}
JSON

say "Build Output ready in $out ($(du -sh "$out" | cut -f1)): vercel deploy --prebuilt"
