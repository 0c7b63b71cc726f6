//! A new link's rules checked before anything is signed or stored: its deadline against
//! `SHARE_MAX_DAYS`, its password's length, its download limit, its networks and its people.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::{
    auth::ssr::{normal_email, validate_email},
    config::Config,
    error::AppError,
    shares::ShareRules,
};

/// The most networks, and the most people, a link names.
const MOST_NETWORKS: usize = 20;
const MOST_PEOPLE: usize = 20;

/// A link's rules, checked: what is stored.
pub struct Checked {
    pub expires_at: Option<OffsetDateTime>,
    pub password: Option<String>,
    pub max_downloads: Option<i32>,
    /// Each as `address/length`; `None`: anywhere.
    pub networks: Option<Vec<String>>,
    /// Lower-cased email addresses; `None`: whoever holds the link.
    pub people: Option<Vec<String>>,
}

pub fn check(config: &Config, rules: &ShareRules) -> Result<Checked, AppError> {
    let password = rules.password.clone().filter(|p| !p.is_empty());
    if password
        .as_ref()
        .is_some_and(|p| !(8..=200).contains(&p.chars().count()))
    {
        return Err(AppError::SharePasswordInvalid);
    }
    let max_downloads = match rules.max_downloads {
        None => None,
        Some(n @ 1..=100_000) => Some(n as i32),
        Some(_) => return Err(AppError::ShareDownloadsInvalid),
    };
    let networks = networks(&rules.networks)?;
    let people = people(&rules.people)?;
    Ok(Checked {
        expires_at: deadline(config, rules.hours)?,
        password,
        max_downloads,
        networks: (!networks.is_empty()).then_some(networks),
        people: (!people.is_empty()).then_some(people),
    })
}

/// `hours` from now, within `SHARE_MAX_DAYS`; none only where `SHARE_ALLOW_NO_EXPIRY` says so.
pub fn deadline(config: &Config, hours: Option<u32>) -> Result<Option<OffsetDateTime>, AppError> {
    match hours {
        None if config.share_no_expiry => Ok(None),
        Some(h) if (1..=config.share_max_days * 24).contains(&h) => {
            Ok(Some(OffsetDateTime::now_utc() + Duration::hours(h.into())))
        }
        _ => Err(AppError::ShareLifetime),
    }
}

/// Email addresses, one a line (or separated by commas, semicolons or spaces), lower-cased as
/// accounts are looked up, each once.
pub fn people(lines: &[String]) -> Result<Vec<String>, AppError> {
    let mut people: Vec<String> = Vec::new();
    for item in lines
        .iter()
        .flat_map(|l| l.split(|c: char| c == ',' || c == ';' || c.is_whitespace()))
        .filter(|i| !i.is_empty())
    {
        validate_email(item).map_err(|_| AppError::SharePeopleInvalid)?;
        let email = normal_email(item);
        if !people.contains(&email) {
            people.push(email);
        }
    }
    match people.len() {
        0..=MOST_PEOPLE => Ok(people),
        _ => Err(AppError::SharePeopleInvalid),
    }
}

/// Addresses and CIDR blocks, one a line (or separated by commas or spaces), each as
/// `address/length` (a bare address is a block of one). Postgres keeps each block's network.
pub fn networks(lines: &[String]) -> Result<Vec<String>, AppError> {
    let items: Vec<&str> = lines
        .iter()
        .flat_map(|l| l.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|i| !i.is_empty())
        .collect();
    if items.len() > MOST_NETWORKS {
        return Err(AppError::ShareNetworksInvalid);
    }
    items
        .into_iter()
        .map(|item| {
            let (address, length) = match item.split_once('/') {
                Some((address, length)) => (address, Some(length)),
                None => (item, None),
            };
            let address: IpAddr = address
                .parse()
                .map_err(|_| AppError::ShareNetworksInvalid)?;
            let most = if address.is_ipv4() { 32 } else { 128 };
            let length = match length {
                None => most,
                Some(l) => l
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= most)
                    .ok_or(AppError::ShareNetworksInvalid)?,
            };
            Ok(format!("{address}/{length}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_addresses_or_blocks_and_nothing_else() {
        let ok = networks(&["203.0.113.0/24, 2001:db8::/32\n198.51.100.7".into()]).unwrap();
        assert_eq!(ok, ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]);
        for bad in [
            "203.0.113.0/33",
            "example.com",
            "10.0.0.0/",
            "::/129",
            "1.2.3",
        ] {
            assert!(networks(&[bad.into()]).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..21).map(|i| format!("10.0.0.{i}")).collect();
        assert!(networks(&many).is_err());
        assert!(networks(&[" ".into()]).unwrap().is_empty());
    }

    #[test]
    fn people_are_email_addresses_lower_cased_once_each() {
        let ok = people(&["Ana@Example.com, bo@example.org\nana@example.com; ".into()]).unwrap();
        assert_eq!(ok, ["ana@example.com", "bo@example.org"]);
        for bad in ["ana", "ana@localhost", "@example.com", "a@b@example.com"] {
            assert_eq!(
                people(&[bad.into()]),
                Err(AppError::SharePeopleInvalid),
                "{bad}"
            );
        }
        let many: Vec<String> = (0..21).map(|i| format!("p{i}@example.com")).collect();
        assert!(people(&many).is_err());
        assert!(people(&["".into()]).unwrap().is_empty());
    }
}
