// "Use a passkey" on the pages served without the app's script (sign-in and its second step).
// The browser's own WebAuthn JSON methods parse the server's options and serialize the signed
// answer; the form posts it and the server checks it. Errors come back as the page's `?error=`.
const unsupported = "This browser cannot use passkeys here.";
const refused = "The passkey was not used: the browser cancelled or refused it.";

// The forms are hidden until this runs: without script, no dead button.
const reveal = () => {
  for (const form of document.querySelectorAll("form[data-passkey-begin][hidden]")) form.hidden = false;
};
reveal();
document.addEventListener("crossview:swapped", reveal);

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches?.("form[data-passkey-begin]")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  const problem = form.querySelector("[role=alert]");
  const say = (text) => {
    problem.textContent = text;
    problem.hidden = !text;
  };
  if (!window.PublicKeyCredential?.parseRequestOptionsFromJSON) return say(unsupported);
  const idle = button.textContent;
  button.disabled = true;
  button.textContent = "Waiting for your passkey…";
  say("");
  try {
    const begin = await fetch(form.dataset.passkeyBegin, {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(),
    });
    const answer = await begin.json();
    if (!begin.ok) {
      const page = new URL(location.href);
      page.searchParams.set("error", answer.code);
      return location.assign(page);
    }
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(answer).publicKey);
    let credential;
    try {
      credential = await navigator.credentials.get({ publicKey });
    } catch {
      return say(refused);
    }
    form.elements.credential.value = JSON.stringify(credential.toJSON());
    form.submit();
  } catch {
    say(unsupported);
  } finally {
    button.disabled = false;
    button.textContent = idle;
  }
});
