// A real OpenID provider for the tests and the demo (`oidc-provider`, in memory), started by
// scripts/test.sh and `scripts/run.sh --sso`:
//   node end2end/oidc/provider.mjs PORT REDIRECT_URI [REDIRECT_URI…]
// Its development login page takes any login name and password. The name says who signs in,
// optionally after modes: `[mode,mode:]email`, e.g. `admin,mfa:erin@example.test`.
//   admin       in the group crossview-admins
//   mfa         the token's amr says a second factor was used
//   unverified  email_verified is false
// and, to prove Crossview refuses them, an ID token re-signed with one claim wrong:
//   nonce, aud, iss, expired (its exp in the past), badsig (signed by a key not in the JWKS).
import { createServer } from "node:http";

import * as jose from "jose";
import Provider from "oidc-provider";

const [port, ...redirects] = process.argv.slice(2);
if (!port || redirects.length === 0) {
  console.error("usage: provider.mjs PORT REDIRECT_URI [REDIRECT_URI…]");
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// One signing key, and a stranger with the same key id for `badsig`.
const kid = "test-key";
const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const signing = { ...(await jose.exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
const stranger = (await jose.generateKeyPair("RS256", { extractable: true })).privateKey;

function parse(login) {
  const at = login.lastIndexOf(":");
  const modes = at < 0 ? [] : login.slice(0, at).split(",");
  return { modes, email: (at < 0 ? login : login.slice(at + 1)).trim().toLowerCase() };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "crossview",
      client_secret: "crossview-test-secret",
      redirect_uris: redirects,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [signing] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  // The ID token itself carries the claims (as Google, Entra, Okta and Keycloak do).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  // A first-party client: no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile groups");
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const { modes, email } = parse(sub);
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email,
          email_verified: !modes.includes("unverified"),
          name: email.split("@")[0],
          groups: modes.includes("admin") ? ["crossview-admins", "staff"] : ["staff"],
        };
      },
    };
  },
});
provider.proxy = false;

// The token endpoint's answer, re-signed when the account asked for a wrong claim (or an amr).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== "/token" || !ctx.body?.id_token) return;
  const claims = jose.decodeJwt(ctx.body.id_token);
  const { modes, email } = parse(claims.sub);
  const now = Math.floor(Date.now() / 1000);
  const changes = {
    nonce: { nonce: "not-the-one-crossview-sent" },
    aud: { aud: "another-application" },
    iss: { iss: "http://127.0.0.1:1/another-issuer" },
    expired: { iat: now - 7200, exp: now - 3600 },
    mfa: { amr: ["pwd", "mfa"] },
  };
  if (modes.length === 0) return;
  // The same person whatever the modes: the subject is the address alone.
  let changed = { ...claims, sub: email };
  const wanted = modes.filter((m) => m in changes || m === "badsig");
  for (const mode of wanted) changed = { ...changed, ...(changes[mode] ?? {}) };
  const key = modes.includes("badsig") ? stranger : privateKey;
  ctx.body = {
    ...ctx.body,
    id_token: await new jose.SignJWT(changed).setProtectedHeader({ alg: "RS256", kid }).sign(key),
  };
});

createServer(provider.callback()).listen(Number(port), "127.0.0.1", () => {
  console.log(`OpenID provider at ${issuer}`);
});
