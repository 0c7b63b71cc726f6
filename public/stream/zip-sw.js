// Streamed downloads for browsers that cannot write a file as it is made (no File System Access
// API): a page hands this worker a MessageChannel for a download, then opens
// /stream/download/<id>/<name> in a hidden frame; the worker answers that navigation with a
// stream fed by the page chunk by chunk, so the browser saves the zip as it arrives and neither
// side holds more than a few chunks. Nothing is fetched and nothing leaves the browser.

const waiting = new Map();

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  const { id, name } = event.data || {};
  const port = event.ports[0];
  if (typeof id !== "string" || typeof name !== "string" || !port) return;
  const stream = new ReadableStream(
    {
      start(controller) {
        port.onmessage = ({ data }) => {
          if (data.chunk) controller.enqueue(new Uint8Array(data.chunk));
          else if (data.end) controller.close();
          else if (data.abort) controller.error(new Error("the zip was cancelled"));
        };
      },
      // Each pull is one chunk the page may send: the page never runs ahead of the download.
      pull() {
        port.postMessage({ pull: true });
      },
      cancel() {
        port.postMessage({ cancelled: true });
      },
    },
    new CountQueuingStrategy({ highWaterMark: 4 }),
  );
  waiting.set(id, { stream, name });
  port.postMessage({ ready: true });
});

self.addEventListener("fetch", (event) => {
  const match = new URL(event.request.url).pathname.match(/^\/stream\/download\/([^/]+)\//);
  const entry = match && waiting.get(match[1]);
  if (!entry) return;
  waiting.delete(match[1]);
  event.respondWith(
    new Response(entry.stream, {
      headers: {
        "Content-Type": "application/zip",
        "Content-Disposition": `attachment; filename*=UTF-8''${encodeURIComponent(entry.name)}`,
        "X-Content-Type-Options": "nosniff",
      },
    }),
  );
});
