// The page's half of a streamed download (public/stream/zip-sw.js is the worker's): null where
// the browser has no service workers, else an object whose write() waits until the download
// has room for the chunk.
export async function openStream(name) {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return null;
  let worker;
  try {
    const registration = await navigator.serviceWorker.register("/stream/zip-sw.js", { scope: "/stream/" });
    worker = registration.active || (await activated(registration.installing || registration.waiting));
  } catch (_) {
    return null;
  }
  const channel = new MessageChannel();
  const id = crypto.randomUUID();
  let credit = 0;
  let cancelled = false;
  let wake = () => {};
  const ready = new Promise((resolve) => {
    channel.port1.onmessage = ({ data }) => {
      if (data.ready) resolve();
      if (data.pull) credit += 1;
      if (data.cancelled) cancelled = true;
      wake();
    };
  });
  worker.postMessage({ id, name }, [channel.port2]);
  await ready;
  const frame = document.createElement("iframe");
  frame.hidden = true;
  frame.src = `/stream/download/${id}/${encodeURIComponent(name)}`;
  document.body.append(frame);
  return {
    async write(chunk) {
      while (credit === 0 && !cancelled) await new Promise((resolve) => (wake = resolve));
      if (cancelled) throw new Error("the download was cancelled in the browser");
      credit -= 1;
      const copy = chunk.slice();
      channel.port1.postMessage({ chunk: copy.buffer }, [copy.buffer]);
    },
    async close() {
      channel.port1.postMessage({ end: true });
      setTimeout(() => frame.remove(), 60_000);
    },
    async abort() {
      channel.port1.postMessage({ abort: true });
      frame.remove();
    },
  };
}

function activated(worker) {
  return new Promise((resolve, reject) => {
    if (!worker) return reject(new Error("no service worker"));
    if (worker.state === "activated") return resolve(worker);
    worker.addEventListener("statechange", () => {
      if (worker.state === "activated") resolve(worker);
      if (worker.state === "redundant") reject(new Error("the service worker could not start"));
    });
  });
}
