//! Who is signed in: the session layer's user, password hashing and the account queries, and
//! the sign-in limits. Shared plumbing: the account pages (`account`) and every server function
//! (through `call`) use it.

#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};

/// The signed-in user as the browser may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
}
