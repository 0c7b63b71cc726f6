//! Every integration test of the server, in one binary (one link of the release build, not
//! one per file). Each file is named for what it proves:
//!
//! - `http`, `http_guards`, `readiness`, `admins`: the real router in-process, with real Postgres and sessions;
//! - `hosting`: many instances on one database, start-up, static files (the real binary);
//! - `availability`: slow clients and invented input never stall or grow the server;
//! - `limits`: attempt limits and floods, in-process and against the real server binary;
//! - `aws_standin`: the strict AWS stand-in itself behaves as AWS does;
//! - `connections_standin`, `browse_standin`, `transfers_standin`, `objects_standin`,
//!   `shares_standin`, `versions_standin`, `grants_standin`, `grants_manage`, `search_standin`,
//!   `edit_standin`: each capability against the strict stand-in;
//! - `two_step`, `sessions`: the second factor at sign-in, its setup and `REQUIRE_MFA`; the
//!   account's list of its sessions;
//! - `mail`: messages through a real SMTP server, and the links in them followed;
//! - `notices`: what an account is told, in the app and by email.

mod support;

mod admin_standin;
mod admins;
mod audit;
mod availability;
mod aws_standin;
mod browse_standin;
mod bulk_standin;
mod connections;
mod connections_standin;
mod doctor_standin;
mod edit_standin;
mod grants_manage;
mod grants_standin;
mod hosting;
mod http;
mod http_guards;
mod limits;
mod mail;
mod notices;
mod objects_standin;
mod pages;
mod readiness;
mod rotation_standin;
mod search_standin;
mod sessions;
mod share_folders_standin;
mod share_people_standin;
mod shares_standin;
mod sign_in_methods;
mod transfers_standin;
mod two_step;
mod uploads_standin;
mod versions_standin;
mod zip_standin;
