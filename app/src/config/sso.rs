//! How people sign in: `SIGN_IN_METHODS`, and the OpenID Connect providers (`OIDC_*`).
//!
//! One provider: `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`, `OIDC_LABEL`. Several:
//! `OIDC_PROVIDERS=okta,google`, then the same names with the provider's id after `OIDC_`
//! (`OIDC_OKTA_ISSUER`, …). Every other setting (`OIDC_SCOPES`, `OIDC_ALLOWED_DOMAINS`,
//! `OIDC_ADMIN_GROUPS`, `OIDC_GROUPS_CLAIM`, `OIDC_MFA_AMR`, `OIDC_MFA_ACR`) is read per provider
//! first (`OIDC_OKTA_SCOPES`), then shared.

use super::{list, ConfigError, SecretString};

/// One OpenID provider.
#[derive(Clone, Debug)]
pub struct SsoProvider {
    /// Lower-case letters, digits and `-`: in the sign-in link, the session and the audit trail.
    pub id: String,
    /// The button's words: "Sign in with {label}".
    pub label: String,
    /// Found by discovery at `{issuer}/.well-known/openid-configuration`; ID tokens must name it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Asked for besides `openid` (default `email profile`).
    pub scopes: Vec<String>,
    /// Email domains whose verified addresses get an account on their first sign-in; empty:
    /// only existing accounts (linked after their password) sign in through this provider.
    pub allowed_domains: Vec<String>,
    /// Members of any of these groups are administrators, re-read at every sign-in; empty: the
    /// provider says nothing about who administers.
    pub admin_groups: Vec<String>,
    /// The claim that lists the user's groups (default `groups`).
    pub groups_claim: String,
    /// `amr` values that mean the provider asked for a second factor (default `mfa`).
    pub mfa_amr: Vec<String>,
    /// `acr` values that mean the same (default none).
    pub mfa_acr: Vec<String>,
}

/// What the sign-in page offers (`SIGN_IN_METHODS`, default: all that are configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInMethods {
    pub password: bool,
    pub sso: bool,
    pub passkey: bool,
}

/// Reads the providers and the sign-in methods.
pub fn from_lookup(
    get: &dyn Fn(&str) -> Option<String>,
    development: bool,
) -> Result<(Vec<SsoProvider>, SignInMethods), ConfigError> {
    let providers = match get("OIDC_PROVIDERS") {
        Some(ids) => {
            let ids = list(Some(ids));
            let mut providers = Vec::new();
            for id in ids {
                providers.push(provider(get, &id, development)?);
            }
            providers
        }
        None if get("OIDC_ISSUER").is_some() => vec![provider(get, "", development)?],
        None => Vec::new(),
    };
    let methods = match get("SIGN_IN_METHODS") {
        None => SignInMethods {
            password: true,
            sso: !providers.is_empty(),
            passkey: true,
        },
        Some(value) => {
            let mut methods = SignInMethods {
                password: false,
                sso: false,
                passkey: false,
            };
            for method in list(Some(value)) {
                match method.as_str() {
                    "password" => methods.password = true,
                    "sso" => methods.sso = true,
                    "passkey" => methods.passkey = true,
                    other => {
                        return Err(ConfigError::Invalid(
                            "SIGN_IN_METHODS",
                            format!("expected password, sso and passkey, got {other:?}"),
                        ))
                    }
                }
            }
            methods
        }
    };
    if methods.sso && providers.is_empty() {
        return Err(ConfigError::Missing(
            "OIDC_ISSUER",
            "SIGN_IN_METHODS names sso: set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET",
        ));
    }
    if !(methods.password || methods.sso || methods.passkey) {
        return Err(ConfigError::Invalid(
            "SIGN_IN_METHODS",
            "names no way to sign in".into(),
        ));
    }
    Ok((providers, methods))
}

/// The provider `id` (`""`: the single one, named `sso`).
fn provider(
    get: &dyn Fn(&str) -> Option<String>,
    id: &str,
    development: bool,
) -> Result<SsoProvider, ConfigError> {
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || id.len() > 32
    {
        return Err(ConfigError::Invalid(
            "OIDC_PROVIDERS",
            format!("{id:?}: use lower-case letters, digits and -"),
        ));
    }
    let prefix = match id {
        "" => "OIDC_".to_owned(),
        id => format!("OIDC_{}_", id.to_uppercase().replace('-', "_")),
    };
    // Its own setting, else the shared one.
    let own = |name: &str| get(&format!("{prefix}{name}"));
    let either = |name: &str| own(name).or_else(|| get(&format!("OIDC_{name}")));
    let required = |name: &str| {
        own(name).ok_or_else(|| {
            ConfigError::Invalid(
                "OIDC_PROVIDERS",
                format!("{prefix}{name} is not set (each provider needs ISSUER, CLIENT_ID and CLIENT_SECRET)"),
            )
        })
    };
    let issuer = required("ISSUER")?.trim().trim_end_matches('/').to_owned();
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|p| issuer.starts_with(p));
    if !(issuer.starts_with("https://") || development && loopback) {
        return Err(ConfigError::Invalid(
            "OIDC_ISSUER",
            format!("must be an https:// URL (http:// only to this machine in development), got {issuer:?}"),
        ));
    }
    let id = if id.is_empty() { "sso" } else { id };
    Ok(SsoProvider {
        label: own("LABEL").unwrap_or_else(|| "single sign-on".to_owned()),
        client_id: required("CLIENT_ID")?.trim().to_owned(),
        client_secret: required("CLIENT_SECRET")?.trim().to_owned().into(),
        scopes: either("SCOPES")
            .map_or_else(|| vec!["email".into(), "profile".into()], |s| words(&s)),
        allowed_domains: list(either("ALLOWED_DOMAINS")),
        // Group names keep their case: providers compare them as given.
        admin_groups: either("ADMIN_GROUPS").map_or_else(Vec::new, |g| {
            g.split(',')
                .map(|g| g.trim().to_owned())
                .filter(|g| !g.is_empty())
                .collect()
        }),
        groups_claim: either("GROUPS_CLAIM").map_or_else(|| "groups".into(), |c| c.trim().into()),
        mfa_amr: either("MFA_AMR").map_or_else(|| vec!["mfa".into()], |a| list(Some(a))),
        mfa_acr: either("MFA_ACR").map_or_else(Vec::new, |a| {
            a.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        }),
        issuer,
        id: id.to_owned(),
    })
}

/// Scopes, separated by spaces or commas; `openid` is always asked for and not repeated.
fn words(value: &str) -> Vec<String> {
    value
        .split([' ', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "openid")
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(
        vars: &[(&str, &str)],
        development: bool,
    ) -> Result<(Vec<SsoProvider>, SignInMethods), ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_lookup(&|k| map.get(k).cloned(), development)
    }

    #[test]
    fn no_provider_offers_password_and_passkey() {
        let (providers, methods) = read(&[], false).unwrap();
        assert!(providers.is_empty());
        assert_eq!(
            methods,
            SignInMethods {
                password: true,
                sso: false,
                passkey: true
            }
        );
    }

    #[test]
    fn one_provider_and_shared_settings() {
        let (providers, methods) = read(
            &[
                ("OIDC_ISSUER", "https://login.example.com/"),
                ("OIDC_CLIENT_ID", "crossview"),
                ("OIDC_CLIENT_SECRET", "s3cret"),
                ("OIDC_LABEL", "Example"),
                ("OIDC_ADMIN_GROUPS", "Crossview Admins, ops"),
                ("OIDC_ALLOWED_DOMAINS", "Example.com"),
            ],
            false,
        )
        .unwrap();
        assert!(methods.sso);
        let p = &providers[0];
        assert_eq!(p.id, "sso");
        assert_eq!(p.issuer, "https://login.example.com");
        assert_eq!(p.admin_groups, ["Crossview Admins", "ops"]);
        assert_eq!(p.allowed_domains, ["example.com"]);
        assert_eq!(p.scopes, ["email", "profile"]);
        assert_eq!(p.mfa_amr, ["mfa"]);
    }

    #[test]
    fn several_providers_read_their_own_settings_first() {
        let (providers, _) = read(
            &[
                ("OIDC_PROVIDERS", "okta,corp-google"),
                ("OIDC_OKTA_ISSUER", "https://acme.okta.com"),
                ("OIDC_OKTA_CLIENT_ID", "a"),
                ("OIDC_OKTA_CLIENT_SECRET", "b"),
                ("OIDC_OKTA_SCOPES", "openid email groups"),
                ("OIDC_CORP_GOOGLE_ISSUER", "https://accounts.google.com"),
                ("OIDC_CORP_GOOGLE_CLIENT_ID", "c"),
                ("OIDC_CORP_GOOGLE_CLIENT_SECRET", "d"),
                ("OIDC_SCOPES", "email"),
            ],
            false,
        )
        .unwrap();
        assert_eq!(providers[0].id, "okta");
        assert_eq!(providers[0].scopes, ["email", "groups"]);
        assert_eq!(providers[1].id, "corp-google");
        assert_eq!(providers[1].scopes, ["email"]);
    }

    #[test]
    fn refusals_name_the_setting() {
        let missing = read(&[("OIDC_ISSUER", "https://x.example.com")], false).unwrap_err();
        assert!(missing.to_string().contains("OIDC_CLIENT_ID"), "{missing}");
        let plain = [
            ("OIDC_ISSUER", "http://127.0.0.1:9000"),
            ("OIDC_CLIENT_ID", "a"),
            ("OIDC_CLIENT_SECRET", "b"),
        ];
        assert!(matches!(
            read(&plain, false),
            Err(ConfigError::Invalid("OIDC_ISSUER", _))
        ));
        assert!(read(&plain, true).is_ok());
        let sso_only = read(&[("SIGN_IN_METHODS", "sso")], false).unwrap_err();
        assert!(matches!(sso_only, ConfigError::Missing("OIDC_ISSUER", _)));
        let typo = read(&[("SIGN_IN_METHODS", "password,sms")], false).unwrap_err();
        assert!(typo.to_string().contains("sms"), "{typo}");
    }
}
