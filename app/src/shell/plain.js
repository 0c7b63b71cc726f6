// The pages served without the app (`served_plain`) move between each other without a reload:
// a link marked `data-swap` fetches the next page and puts its <main> and title in place of
// this one's, and Back and Forward do the same. Anything unexpected is a plain load instead.
async function swap(url, push) {
  const response = await fetch(url, { headers: { Accept: "text/html" } });
  if (!response.ok || response.redirected) return location.assign(url);
  const next = new DOMParser().parseFromString(await response.text(), "text/html");
  const main = next.querySelector("main");
  if (!main) return location.assign(url);
  document.title = next.title;
  document.querySelector("main").replaceWith(document.adoptNode(main));
  if (push) history.pushState(null, "", url);
  window.scrollTo(0, 0);
  const heading = document.querySelector("main h1");
  heading?.setAttribute("tabindex", "-1");
  heading?.focus();
  document.dispatchEvent(new Event("crossview:swapped"));
}

document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-swap]");
  const plainClick = event.button === 0 && !(event.metaKey || event.ctrlKey || event.shiftKey || event.altKey);
  if (!link || event.defaultPrevented || !plainClick) return;
  event.preventDefault();
  swap(link.href, true).catch(() => location.assign(link.href));
});
addEventListener("popstate", () => swap(location.href, false).catch(() => location.reload()));
