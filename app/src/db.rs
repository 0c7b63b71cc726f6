//! The database's schema: the project's migrations, embedded once. The server runs them at
//! start; every `#[sqlx::test]` starts from them.

use sqlx::migrate::Migrator;

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");
