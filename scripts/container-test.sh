#!/usr/bin/env bash
# The container image, built and run on this machine (scripts/test.sh runs this after the release
# build). Docker Hub is out of reach here, so the Dockerfile's build stage (FROM rust:…) cannot
# run; its final stage can: it needs no base image. This builds that stage exactly as committed,
# from the file system scripts/container-rootfs.sh assembles out of this machine's release build
# (what the build stage would produce), then runs the image: health check, unprivileged user,
# pages and precompressed assets, and a SIGTERM that lets a request in flight finish.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

apt_install docker.io
if ! docker info >/dev/null 2>&1; then
  dockerd >"$DATA/logs/dockerd.log" 2>&1 &
  for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
fi
ensure_postgres

image="$DATA/image"
rm -rf "$image" && mkdir -p "$image"
bash scripts/container-rootfs.sh "$image/rootfs"
# The committed Dockerfile's final stage, its one COPY taking the assembled file system.
sed -n '/^FROM scratch/,$p' Dockerfile | sed 's|^COPY --from=build /rootfs /$|COPY rootfs /|' \
  >"$image/Dockerfile"
grep -q '^COPY rootfs /$' "$image/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t crossview:test "$image" >/dev/null
say "image crossview:test: $(docker image inspect -f '{{.Size}}' crossview:test | awk '{printf "%.0f MB", $1/1e6}')"

DATABASE_URL=$(fresh_database crossview_container)
docker rm -f crossview-test >/dev/null 2>&1 || true
docker run -d --name crossview-test --network host \
  -e DATABASE_URL="$DATABASE_URL" -e SESSION_SECRET="$(session_secret)" \
  -e CROSSVIEW_ENV=development -e COOKIE_SECURE=false -e LEPTOS_SITE_ADDR=127.0.0.1:3300 \
  crossview:test >/dev/null
trap 'docker logs crossview-test >"$DATA/logs/container.log" 2>&1; docker rm -f crossview-test >/dev/null 2>&1; cleanup' EXIT

for _ in $(seq 1 150); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' crossview-test)" = healthy ] && break
  sleep 0.2
done
[ "$(docker inspect -f '{{.State.Health.Status}}' crossview-test)" = healthy ] ||
  { echo "the container never became healthy" >&2; exit 1; }
pid=$(docker inspect -f '{{.State.Pid}}' crossview-test)
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 65532 ] || { echo "the server runs as uid $uid, not 65532" >&2; exit 1; }

IMAGE_ROOTFS="$image/rootfs" python3 - <<'PY'
import glob, http.client, os, re, socket, subprocess, time
c = http.client.HTTPConnection("127.0.0.1", 3300)
c.request("GET", "/sign-in"); r = c.getresponse(); page = r.read().decode()
assert r.status == 200 and r.getheader("Cache-Control") == "no-store", r.status
# The sign-in page names only its stylesheet (it is served without the app); the wasm's name is
# the one the image holds.
css = re.search(r'/pkg/crossview\.[^"\']+\.css', page).group(0)
wasm = "/pkg/" + os.path.basename(glob.glob(os.environ["IMAGE_ROOTFS"] + "/**/pkg/crossview.*.wasm", recursive=True)[0])
for asset in (css, wasm):
    c.request("GET", asset, headers={"Accept-Encoding": "br"}); r = c.getresponse(); r.read()
    assert r.status == 200, (asset, r.status)
    assert r.getheader("Content-Encoding") == "br", (asset, r.getheaders())
    assert r.getheader("Cache-Control") == "public, max-age=31536000, immutable"

# A request in flight when SIGTERM arrives: its body still trickling in. It must be answered,
# and only then the process end (cleanly).
body = b"email=drain%40example.com&password=not+the+password+at+all&next="
s = socket.create_connection(("127.0.0.1", 3300))
s.sendall(b"POST /api/sign_in HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n"
          b"Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
          b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10])
time.sleep(0.3)
stop = subprocess.Popen(["docker", "stop", "-t", "20", "crossview-test"], stdout=subprocess.DEVNULL)
time.sleep(1.0)
s.sendall(body[10:])
answer = s.recv(4096).split(b"\r\n")[0]
assert answer.startswith(b"HTTP/1.1 401"), answer
stop.wait()
code = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", "crossview-test"],
                      capture_output=True, text=True).stdout.strip()
assert code == "0", f"exit code {code}"
print("container: healthy as uid 65532, pages and brotli assets served, SIGTERM drained a request in flight, exit 0")
PY
