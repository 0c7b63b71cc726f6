//! Crossview: browse S3 across AWS accounts. This crate is the Leptos application, rendered on
//! the server (feature `ssr`) and hydrated in the browser (feature `hydrate`).
//!
//! Features, one folder each (pages, server functions, and server-only code in `ssr`):
//! `account`, `admin`, `browse`, `connections`, `grants`, `notices`, `objects`, `search`,
//! `shares`, `transfers`, `zip`; `shell` is the
//! document and the router that puts them together. Shared plumbing, which no feature owns and
//! which imports no feature: `aws`, `audit`, `auth`, `call`, `config`, `error`, `forms`,
//! `db`, `format`, `iam`, `limits`, `location`, `mail`, `state`, `ui`, `url`. See ARCHITECTURE.md.

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod browse;
pub mod connections;
pub mod error;
pub mod format;
pub mod forms;
pub mod grants;
pub mod iam;
pub mod location;
pub mod notices;
pub mod objects;
pub mod search;
pub mod shares;
pub mod shell;
pub mod transfers;
pub mod ui;
pub mod url;
pub mod walk;
pub mod zip;

#[cfg(feature = "ssr")]
pub mod aws;
#[cfg(feature = "ssr")]
pub mod call;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod notify;
#[cfg(feature = "ssr")]
pub mod outbound;
#[cfg(feature = "ssr")]
pub mod qr;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod telemetry;
#[cfg(feature = "ssr")]
pub mod token;

#[cfg(test)]
mod architecture;

pub use shell::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
