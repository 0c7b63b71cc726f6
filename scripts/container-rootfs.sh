#!/usr/bin/env bash
# Assembles the container image's whole file system in DIR from the release build in target/:
#   /app/server, /app/hash.txt   the binary, and the assets' hashes it reads beside itself
#   /app/site/                   the site (hashed files with their .br/.gz copies)
#   the shared libraries the binary links (glibc's loader, libc, libm, libgcc_s), CA
#   certificates for AWS and Postgres over TLS, and /etc/passwd naming the unprivileged user
# Nothing else: no shell, no package manager. The Dockerfile copies DIR into a `scratch` image;
# scripts/test.sh runs the same DIR with chroot as that user.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$ROOT/target}
dir=${1:?usage: container-rootfs.sh DIR}
rm -rf "$dir"
mkdir -p "$dir/app" "$dir/etc/ssl/certs" "$dir/tmp"
chmod 1777 "$dir/tmp"
install -m 755 "$target/release/server" "$dir/app/server"
install -m 644 "$target/release/hash.txt" "$dir/app/hash.txt"
cp -r "$target/site" "$dir/app/site"
# Every library the dynamic loader will ask for, at the path it asks for it.
ldd "$target/release/server" | grep -oE '/[^ ]+' | while read -r lib; do
  install -D -m 755 "$(readlink -f "$lib")" "$dir$lib"
done
cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
echo 'crossview:x:65532:65532:crossview:/app:/nonexistent' >"$dir/etc/passwd"
echo 'crossview:x:65532:' >"$dir/etc/group"
