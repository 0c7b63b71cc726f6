//! Crossview: browse S3 across AWS accounts. This crate is the Leptos application, rendered on
//! the server (feature `ssr`) and hydrated in the browser (feature `hydrate`). One folder per
//! capability; server-only code sits in each one's `ssr` module.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod browse;
pub mod connections;
pub mod error;
pub mod forms;
pub mod objects;
pub mod shares;
pub mod shell;
pub mod transfers;
pub mod ui;
pub mod url;

#[cfg(feature = "ssr")]
pub mod aws;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod state;

pub use shell::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
