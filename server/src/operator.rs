//! Commands for whoever runs the deployment, on the server binary itself:
//!
//! ```text
//! server admin grant EMAIL     make EMAIL's account an administrator
//! server admin revoke EMAIL    make it an ordinary account again (never the last administrator)
//! ```
//!
//! They need only `DATABASE_URL`, and are audited as done by `operator`.

use app::{auth::ssr::set_admin, error::AppError};
use sqlx::PgPool;

pub const USAGE: &str = "usage: server admin grant EMAIL | server admin revoke EMAIL";

/// Runs one command; the answer is what to print.
pub async fn run(pool: &PgPool, args: &[String]) -> Result<String, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (admin, email) = match args[..] {
        ["admin", "grant", email] => (true, email),
        ["admin", "revoke", email] => (false, email),
        _ => return Err(USAGE.to_owned()),
    };
    match set_admin(pool, None, email, admin).await {
        Ok(_) if admin => Ok(format!("{email} is now an administrator")),
        Ok(_) => Ok(format!("{email} is no longer an administrator")),
        Err(AppError::NotFound) => Err(format!("no account has the email {email}")),
        Err(err) => Err(err.to_string()),
    }
}
