//! Telling an account something: the notice is kept in its list (the `notices` page reads it)
//! and, when the deployment sends email, mailed to its address as well. Server-side plumbing of
//! every feature; the words are in [`letters`].

pub mod letters;

use sqlx::PgPool;

use crate::{
    config::Config,
    mail::{self, Letter},
    state::AppState,
};

/// Notices kept per account: the newest, older ones make room.
const KEPT: i64 = 100;
/// The columns' bounds (see the migration): a longer text is cut, a longer link left out.
const SUBJECT_MAX: usize = 200;
const BODY_MAX: usize = 4000;
const PATH_MAX: usize = 2000;

/// Tells account `user`. A failure to keep the notice is logged, never the caller's error: what
/// it reports has already happened.
pub async fn tell(state: &AppState, user: i64, letter: Letter) {
    match keep(&state.pool, user, &letter).await {
        Ok(Some(to)) => email(&state.config, to, letter),
        Ok(None) => {}
        Err(err) => tracing::warn!(subject = %letter.subject, "notice not kept: {err}"),
    }
}

/// Emails `letter` alone, when the deployment sends email: for an address that may have no
/// account (an invitation) or a link that must not be kept (a password reset). Its link, a path
/// inside Crossview, is made whole with `PUBLIC_URL` (and left out without it).
pub fn email(config: &Config, to: String, letter: Letter) {
    let Some(mail) = &config.mail else { return };
    let base = config.public_url.as_deref();
    let link = letter
        .link
        .and_then(|(label, path)| Some((label, format!("{}{path}", base?))));
    mail::send_later(mail, to, Letter { link, ..letter });
}

/// Keeps the notice and makes room; answers the account's address (`None`: no such account).
async fn keep(pool: &PgPool, user: i64, letter: &Letter) -> Result<Option<String>, sqlx::Error> {
    let (label, path) = match &letter.link {
        Some((label, path)) if path.len() <= PATH_MAX => {
            (Some(label.as_str()), Some(path.as_str()))
        }
        _ => (None, None),
    };
    // The delete sees the rows from before the insert: it keeps KEPT - 1 of them, and the new.
    sqlx::query_scalar(
        "with kept as (
             insert into notices (user_id, subject, body, link_label, link_path)
             select id, $2, $3, $4, $5 from users where id = $1 returning user_id
         ), pruned as (
             delete from notices where user_id = $1 and id <= (
                 select id from notices where user_id = $1 order by id desc offset $6 limit 1)
         )
         select u.email from users u join kept on kept.user_id = u.id",
    )
    .bind(user)
    .bind(clip(&letter.subject, SUBJECT_MAX))
    .bind(clip(&letter.paragraphs.join("\n\n"), BODY_MAX))
    .bind(label)
    .bind(path)
    .bind(KEPT - 1)
    .fetch_optional(pool)
    .await
}

/// `text`, cut to at most `max` bytes on a character boundary, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn long_texts_are_cut_on_a_character() {
        assert_eq!(clip("short", 10), "short");
        let cut = clip(&"日本語".repeat(100), 200);
        assert!(cut.len() <= 200 && cut.ends_with('…'), "{cut}");
        assert!(cut
            .trim_end_matches('…')
            .chars()
            .all(|c| "日本語".contains(c)));
    }
}
