//! Audit search: the filters that are set become an indexed `where`, newest first, paged by
//! keyset (`(at, id) < cursor`), so every page is one index range scan, however deep.

use sqlx::{PgPool, Postgres, QueryBuilder};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::chain::ROW_COLUMNS;
use crate::{
    audit::{AuditEntry, AuditFilter, AuditPage, CLASSES},
    error::AppError,
};

/// Rows per page.
pub const PAGE: i64 = 50;

/// A filter checked and typed. Only the set fields take part in the query.
#[derive(Debug, Default)]
pub struct Criteria {
    actor: Option<String>,
    /// `operator` or `anonymous` (share links) typed as the actor: a kind, not an email.
    actor_kind: Option<&'static str>,
    connection: Option<i64>,
    account: Option<String>,
    /// The action's names: today's, and the one older rows carry if it was renamed.
    action: Option<Vec<String>>,
    class: Option<String>,
    bucket: Option<String>,
    prefix: Option<String>,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    before: Option<(OffsetDateTime, i64)>,
}

impl TryFrom<&AuditFilter> for Criteria {
    type Error = AppError;

    fn try_from(f: &AuditFilter) -> Result<Self, AppError> {
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let connection = match f.connection.as_str() {
            "" => None,
            id => Some(id.parse().map_err(|_| AppError::SearchInvalid)?),
        };
        let account = text(&f.account);
        if account
            .as_ref()
            .is_some_and(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AppError::SearchInvalid);
        }
        let class = text(&f.outcome);
        if class
            .as_ref()
            .is_some_and(|c| !CLASSES.contains(&c.as_str()))
        {
            return Err(AppError::SearchInvalid);
        }
        let time = |s: &str| match s {
            "" => Ok(None),
            s => utc_time(s).map(Some).ok_or(AppError::SearchInvalid),
        };
        let before = match f.before.as_str() {
            "" => None,
            cursor => Some(parse_cursor(cursor).ok_or(AppError::SearchInvalid)?),
        };
        let actor_kind = ["operator", "anonymous"]
            .into_iter()
            .find(|kind| f.actor.eq_ignore_ascii_case(kind));
        Ok(Criteria {
            actor: text(&f.actor).filter(|_| actor_kind.is_none()),
            actor_kind,
            connection,
            account,
            // An old name (a bookmarked search) finds the action's rows under either name.
            action: text(&f.action)
                .map(|a| crate::audit::stored_names(crate::audit::current_name(&a))),
            class,
            bucket: text(&f.bucket),
            prefix: text(&f.prefix),
            from: time(&f.from)?,
            to: time(&f.to)?,
            before,
        })
    }
}

impl Criteria {
    /// `and …` for each filter that is set.
    pub fn push_where(&self, q: &mut QueryBuilder<'_, Postgres>) {
        let lead = self.lead();
        let equal = [
            ("e.actor_id", self.actor.as_deref().map(Value::User)),
            ("e.connection_id", self.connection.map(Value::Id)),
            ("e.account_id", self.account.as_deref().map(Value::Text)),
            ("e.action", self.single_action().map(Value::Text)),
            ("e.bucket", self.bucket.as_deref().map(Value::Text)),
        ];
        for (column, value) in equal {
            let Some(value) = value else { continue };
            if lead == Some(column) {
                // The leading filter as a one-value range: an equality would make Postgres treat
                // the column as a constant, the time index would then be "in order" too, and
                // after a burst of other rows at the newest end it would walk that, discarding.
                q.push(format_args!(" and {column} between "));
                value.push(q);
                q.push(" and ");
            } else {
                q.push(format_args!(" and {column} = "));
            }
            value.push(q);
        }
        if let Some(names) = self.action.as_ref().filter(|n| n.len() > 1) {
            q.push(" and e.action = any(")
                .push_bind(names.clone())
                .push(")");
        }
        // The kind is a constant too, written out so that its partial index is usable.
        if let Some(kind) = self.actor_kind {
            match lead == Some("e.actor_kind") {
                true => q.push(format_args!(
                    " and e.actor_kind between '{kind}' and '{kind}'"
                )),
                false => q.push(format_args!(" and e.actor_kind = '{kind}'")),
            };
        }
        // The class is one of three constants: written out, so the partial index on the rarer
        // two is usable in every plan, generic ones included.
        if let Some(class) = CLASSES.iter().find(|c| self.class.as_deref() == Some(**c)) {
            q.push(format_args!(" and e.class = '{class}'"));
        }
        if let Some(prefix) = &self.prefix {
            q.push(" and e.key like ")
                .push_bind(like_prefix(prefix))
                .push(" escape '\\'");
        }
        if let Some(from) = self.from {
            q.push(" and e.at >= ").push_bind(from);
        }
        if let Some(to) = self.to {
            q.push(" and e.at < ").push_bind(to);
        }
        if let Some((at, id)) = self.before {
            // the bound on `at` alone lets partitions after the cursor be skipped
            q.push(" and e.at <= ").push_bind(at);
            q.push(" and (e.at, e.id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
    }

    /// The order of a search, `direction` being `desc` or `asc`: by time and id, led by the most
    /// selective filter's column. That column is constant among the matches, so the order is
    /// the same; but it makes the filter's own (column, at, id) index the one that yields rows
    /// in order, and the planner takes it rather than walking the time index and discarding.
    pub fn order_by(&self, direction: &str) -> String {
        let lead = self
            .lead()
            .map(|c| format!("{c} {direction}, "))
            .unwrap_or_default();
        format!(" order by {lead}e.at {direction}, e.id {direction}")
    }

    /// The action filter when rows carry one name for it: an action also stored under an older
    /// name is matched by `any`, which no index yields in order.
    fn single_action(&self) -> Option<&str> {
        match self.action.as_deref() {
            Some([name]) => Some(name),
            _ => None,
        }
    }

    /// The column of the most selective equality filter that is set.
    fn lead(&self) -> Option<&'static str> {
        if self.actor.is_some() {
            Some("e.actor_id")
        } else if self.actor_kind.is_some() {
            Some("e.actor_kind")
        } else if self.connection.is_some() {
            Some("e.connection_id")
        } else if self.account.is_some() {
            Some("e.account_id")
        } else if self.bucket.is_some() {
            Some("e.bucket")
        } else if self.single_action().is_some() {
            Some("e.action")
        } else if matches!(self.class.as_deref(), Some("refused" | "failed")) {
            Some("e.class")
        } else {
            None
        }
    }
}

/// A filter's value, bound into the query.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// A user's id, from their email.
    User(&'a str),
    Id(i64),
    Text(&'a str),
}

impl Value<'_> {
    fn push(self, q: &mut QueryBuilder<'_, Postgres>) {
        match self {
            Value::User(email) => {
                q.push("(select id from users where lower(email) = lower(")
                    .push_bind(email.to_owned())
                    .push("))");
            }
            Value::Id(id) => {
                q.push_bind(id);
            }
            Value::Text(text) => {
                q.push_bind(text.to_owned());
            }
        }
    }
}

/// One page of matching rows, newest first.
pub async fn search(pool: &PgPool, filter: &AuditFilter) -> Result<AuditPage, AppError> {
    let criteria = Criteria::try_from(filter)?;
    page(pool, &criteria).await
}

pub async fn page(pool: &PgPool, criteria: &Criteria) -> Result<AuditPage, AppError> {
    let mut q = QueryBuilder::new(format!(
        "select {ROW_COLUMNS}, e.at as at_value from audit_events e
         left join users u on u.id = e.actor_id where true"
    ));
    criteria.push_where(&mut q);
    q.push(criteria.order_by("desc"))
        .push(" limit ")
        .push_bind(PAGE + 1);
    let mut rows: Vec<(super::chain::ChainRow, OffsetDateTime)> = q
        .build()
        .try_map(|row: sqlx::postgres::PgRow| {
            use sqlx::{FromRow, Row};
            Ok((
                super::chain::ChainRow::from_row(&row)?,
                row.try_get("at_value")?,
            ))
        })
        .fetch_all(pool)
        .await?;
    let next = (rows.len() as i64 > PAGE).then(|| {
        rows.truncate(PAGE as usize);
        let (last, at) = rows.last().expect("a full page");
        cursor(*at, last.id)
    });
    let rows = rows
        .into_iter()
        .map(|(r, _)| {
            let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
            AuditEntry {
                id: r.id,
                at: r.at,
                actor: r.actor,
                connection_id: r.connection_id,
                account_id: r.account_id,
                action: crate::audit::current_name(&r.action).to_owned(),
                bucket: r.bucket,
                key: r.key,
                outcome: r.outcome,
                class: r.class,
                aws_request_id: r.aws_request_id,
                location: detail["location"].as_str().map(str::to_owned),
                grant: detail["grant"].as_i64(),
                detail: r.detail,
            }
        })
        .collect();
    Ok(AuditPage { rows, next })
}

/// `<microseconds since the epoch>-<id>`: where the next page starts.
fn cursor(at: OffsetDateTime, id: i64) -> String {
    format!("{}-{id}", at.unix_timestamp_nanos() / 1000)
}

fn parse_cursor(cursor: &str) -> Option<(OffsetDateTime, i64)> {
    let (micros, id) = cursor.split_once('-')?;
    let micros: i128 = micros.parse().ok()?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros.checked_mul(1000)?).ok()?;
    Some((at, id.parse().ok()?))
}

/// `2026-03-01`, `2026-03-01T14:30` or `2026-03-01T14:30:15`, in UTC.
fn utc_time(s: &str) -> Option<OffsetDateTime> {
    let number = |range: std::ops::Range<usize>| -> Option<u16> {
        let part = s.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let date = Date::from_calendar_date(
        number(0..4)?.into(),
        Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?,
        u8::try_from(number(8..10)?).ok()?,
    )
    .ok()?;
    let separators = |at: &[usize], c: u8| at.iter().all(|&i| s.as_bytes().get(i) == Some(&c));
    let time = match s.len() {
        10 if separators(&[4, 7], b'-') => Time::MIDNIGHT,
        16 | 19 if separators(&[4, 7], b'-') && s.as_bytes()[10] == b'T' => {
            let seconds = if s.len() == 19 { number(17..19)? } else { 0 };
            Time::from_hms(
                u8::try_from(number(11..13)?).ok()?,
                u8::try_from(number(14..16)?).ok()?,
                u8::try_from(seconds).ok()?,
            )
            .ok()?
        }
        _ => return None,
    };
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// A `like` pattern matching keys that start with `prefix` (its `%`, `_` and `\` literal).
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_or_minutes_in_utc_and_nothing_else() {
        assert_eq!(
            utc_time("2026-03-01").unwrap().unix_timestamp(),
            1_772_323_200
        );
        assert_eq!(
            utc_time("2026-03-01T14:30").unwrap().unix_timestamp(),
            1_772_323_200 + 14 * 3600 + 30 * 60
        );
        assert!(utc_time("2026-03-01T14:30:15").is_some());
        for bad in [
            "",
            "2026-02-30",
            "2026-3-01",
            "2026-03-01 14:30",
            "2026-03-01T25:00",
            "+026-03-01",
            "2026-03-01T14:3x",
        ] {
            assert_eq!(utc_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let at = utc_time("2026-03-01T14:30:15").unwrap() + time::Duration::microseconds(7);
        assert_eq!(parse_cursor(&cursor(at, 42)), Some((at, 42)));
        for bad in ["", "12", "x-1", "1-x", "99999999999999999999999999-1"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_prefix_matches_literally() {
        assert_eq!(like_prefix("50%_off\\"), "50\\%\\_off\\\\%");
    }
}
