# Crossview as a container image (Fly.io, Render, Cloud Run, ECS, Kubernetes).
#   docker build -t crossview .
#   docker run -p 8080:8080 -e DATABASE_URL=… -e SESSION_SECRET=… crossview
# The build stage compiles the site with the project's own scripts; the image is `scratch` plus
# exactly what scripts/container-rootfs.sh assembles: the binary, the site, the libraries it links
# and CA certificates. No shell, no package manager; it runs as an unprivileged user.

FROM rust:1.95-bookworm AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The tools (wasm target, cargo-leptos, wasm-bindgen-cli, wasm-opt) as scripts/test.sh gets them;
# then the release site, its files precompressed; then the file system of the image.
RUN bash -c 'source scripts/lib.sh && ensure_rust_tools && ensure_node_tools \
    && cargo leptos build --release --precompress \
    && scripts/container-rootfs.sh /rootfs'

FROM scratch
COPY --from=build /rootfs /
USER 65532:65532
WORKDIR /app
ENV LEPTOS_SITE_ADDR=0.0.0.0:8080 \
    LEPTOS_SITE_ROOT=/app/site \
    LOG_FORMAT=json \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 8080
# Behind the platform's proxy (Fly.io, Render, Cloud Run, a load balancer, an ingress) run it with
# -e TRUST_PROXY=true, so that limits count each client rather than the proxy; not set here,
# since a container that clients reach directly must not believe their X-Forwarded-For. Without
# it, requests from private addresses make the server warn in its log and in /readyz.
# SIGTERM (the default) drains: the server stops accepting and finishes what is in flight.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s CMD ["/app/server", "healthcheck"]
ENTRYPOINT ["/app/server"]
