//! Device cookies, OWASP's answer to lockout: a browser in which someone once signed in to an
//! account carries a signed cookie naming that account. Sign-in attempts from such a browser
//! count on the browser's own counter, never on the counters strangers fill, so no number of
//! wrong guesses from elsewhere keeps the rightful user out of their own browser.
//!
//! The cookie is `<nonce>.<HMAC>`: 16 random bytes, and a MAC over the account's normalised
//! email and the nonce under a key of its own (derived from `SESSION_SECRET`). It says nothing
//! by itself: it counts only for the email it was made for, and the nonce is the counter's name.

use axum_login::tower_sessions::cookie::{Cookie, SameSite};
use hmac::{Hmac, Mac};
use http::{header, request::Parts};
use sha2::Sha256;

use crate::config::Config;

/// How long a browser stays trusted after its last sign-in.
const LIFETIME_DAYS: i64 = 180;

/// The cookie's name: `__Host-` prefixed over HTTPS, like the session's.
pub fn cookie_name(secure: bool) -> &'static str {
    match secure {
        true => "__Host-crossview_device",
        false => "crossview_device",
    }
}

fn mac(config: &Config, email: &str, nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&config.subkey("crossview.device-cookie.v1"))
        .expect("HMAC takes a key of any length");
    // Length-prefixed: no email and nonce pair reads as another.
    for field in [email.as_bytes(), nonce.as_bytes()] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field);
    }
    mac
}

/// A new device cookie's value for `email` (normalised).
pub fn issue(config: &Config, email: &str) -> String {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let tag = mac(config, email, &nonce).finalize().into_bytes();
    format!("{nonce}.{}", hex::encode(tag))
}

/// The device's id (its nonce) if `value` was issued by this deployment for `email`.
pub fn check(config: &Config, email: &str, value: &str) -> Option<String> {
    let (nonce, tag) = value.split_once('.')?;
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let tag = hex::decode(tag).ok()?;
    mac(config, email, nonce).verify_slice(&tag).ok()?;
    Some(nonce.to_owned())
}

/// The trusted device this request comes from for `email`, if any.
pub fn of_request(config: &Config, email: &str) -> Option<String> {
    let parts = leptos::prelude::use_context::<Parts>()?;
    let name = cookie_name(config.cookie_secure);
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|c| c.name() == name)
        .find_map(|c| check(config, email, c.value()))
}

/// Makes the browser a trusted device for `email`: sent with the answer to a sign-in or sign-up.
pub fn remember(config: &Config, email: &str) {
    let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let cookie = Cookie::build((cookie_name(config.cookie_secure), issue(config, email)))
        .path("/")
        .http_only(true)
        .secure(config.cookie_secure)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::days(LIFETIME_DAYS))
        .build();
    if let Ok(value) = http::HeaderValue::from_str(&cookie.to_string()) {
        res.append_header(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_counts_only_for_its_own_email_and_deployment() {
        let secret = "s".repeat(64);
        let config = |secret: &str| {
            let secret = secret.to_owned();
            Config::from_lookup(move |key| match key {
                "DATABASE_URL" => Some("postgres://x".into()),
                "SESSION_SECRET" => Some(secret.clone()),
                _ => None,
            })
            .unwrap()
        };
        let ours = config(&secret);
        let value = issue(&ours, "dana@example.com");
        let id = check(&ours, "dana@example.com", &value).expect("ours");
        assert_eq!(id.len(), 32);
        assert_eq!(check(&ours, "eve@example.com", &value), None);
        assert_eq!(
            check(&config(&"t".repeat(64)), "dana@example.com", &value),
            None
        );
        let forged = format!("{}.{}", "0".repeat(32), value.split_once('.').unwrap().1);
        assert_eq!(check(&ours, "dana@example.com", &forged), None);
        assert_ne!(issue(&ours, "dana@example.com"), value, "a nonce each time");
    }
}
