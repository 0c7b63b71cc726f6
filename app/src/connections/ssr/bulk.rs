//! Connecting many accounts at once: a list of (account id, role name), typed or pasted from a
//! StackSet's `list-stack-instances`, becomes one connection per account, each with its own
//! generated ExternalId and its role ARN; "Verify all" then verifies them a few at a time.

use futures::{stream, StreamExt};
use serde_json::Value;

use super::{create, guide, set_role, verify};
use crate::{
    connections::{parse_role_arn, BulkGuide, BulkRow, RoleArn, Status},
    error::{AppError, AwsProblem},
    state::AppState,
};

/// Accounts one batch takes at most.
pub const MOST: usize = 100;
/// Verifications in flight at once: STS and Crossview's own allowance stay unhurried.
const AT_ONCE: usize = 4;

/// The roles the input names, in order and once each: lines of `ACCOUNT [ROLE]` (a space or a
/// comma between), or the JSON of `aws cloudformation list-stack-instances` (each summary's
/// `Account`). A role not named is `default_role`.
pub fn parse(input: &str, default_role: &str) -> Result<Vec<RoleArn>, AppError> {
    let input = input.trim();
    let pairs: Vec<(usize, String, String)> = match input.starts_with(['{', '[']) {
        true => {
            let json: Value = serde_json::from_str(input).map_err(|e| {
                AppError::Request(format!("the pasted JSON could not be read: {e}"))
            })?;
            let items = json
                .get("Summaries")
                .or(Some(&json))
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    AppError::Request(
                        "paste the output of `aws cloudformation list-stack-instances`".into(),
                    )
                })?;
            items
                .iter()
                .enumerate()
                .map(|(n, item)| {
                    let account = item
                        .get("Account")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    (n + 1, account.to_owned(), default_role.to_owned())
                })
                .collect()
        }
        false => input
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
            .map(|(n, line)| {
                let mut words = line
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|w| !w.is_empty());
                let account = words.next().unwrap_or_default().to_owned();
                let role = words.next().unwrap_or(default_role).to_owned();
                (n + 1, account, role)
            })
            .collect(),
    };
    if pairs.is_empty() {
        return Err(AppError::Request("name at least one account".into()));
    }
    if pairs.len() > MOST {
        return Err(AppError::Request(format!(
            "{} accounts: one batch takes at most {MOST}",
            pairs.len()
        )));
    }
    let mut roles: Vec<RoleArn> = Vec::with_capacity(pairs.len());
    for (line, account, role) in pairs {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::Request(format!(
                "line {line}: “{account}” is not an AWS account id (12 digits)"
            )));
        }
        let arn = parse_role_arn(&format!("arn:aws:iam::{account}:role/{role}"))
            .map_err(|e| AppError::Request(format!("line {line}: {e}")))?;
        if !roles.iter().any(|r| r.arn == arn.arn) {
            roles.push(arn);
        }
    }
    Ok(roles)
}

/// One connection per role, each with its own generated ExternalId; their ids, in order.
pub async fn create_all(
    state: &AppState,
    owner: i64,
    roles: &[RoleArn],
    read_only: bool,
) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::with_capacity(roles.len());
    for role in roles {
        let name = format!("{} · {}", role.account_id, role.name);
        let id = create(&state.pool, &state.config, owner, (&name, read_only), None).await?;
        set_role(&state.pool, owner, id, role).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// The batch as its page shows it: each connection's account, role, ExternalId, status and the
/// step of a verification running now. One query for the whole batch: the page reads it twice a
/// second while "Verify all" runs. Any id that is not the owner's makes it `NotFound`.
pub async fn rows(state: &AppState, owner: i64, ids: &[i64]) -> Result<Vec<BulkRow>, AppError> {
    let mut wanted: Vec<i64> = ids.iter().take(MOST).copied().collect();
    type Row = (
        i64,
        Option<String>,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let found: Vec<Row> = sqlx::query_as(
        "select id, account_id, role_arn, external_id,
                case when disabled_at is null then status else 'disabled' end,
                last_error, verify_step
         from connections where owner_id = $1 and id = any($2)
         order by array_position($2, id)",
    )
    .bind(owner)
    .bind(&wanted)
    .fetch_all(&state.pool)
    .await?;
    wanted.sort_unstable();
    wanted.dedup();
    if found.len() != wanted.len() {
        return Err(AppError::NotFound);
    }
    Ok(found
        .into_iter()
        .map(|(id, account, role, external_id, status, error, step)| {
            let status = Status::from_stored(&status);
            BulkRow {
                id,
                account_id: account.unwrap_or_default(),
                role_arn: role.unwrap_or_default(),
                external_id,
                status,
                // Only a failed check's problem is shown; a pending one keeps its last.
                problem: error
                    .and_then(|code| AwsProblem::from_code(&code))
                    .filter(|_| status == Status::Failed)
                    .map(|p| p.to_string()),
                step,
            }
        })
        .collect())
}

/// Verifies every connection of the batch, [`AT_ONCE`] at a time; each as a single verification
/// would be (audited, its outcome stored). How many are verified now.
pub async fn verify_all(state: &AppState, owner: i64, ids: &[i64]) -> Result<usize, AppError> {
    let results: Vec<Result<bool, AppError>> = stream::iter(ids.iter().take(MOST).copied())
        .map(|id| async move {
            let c = verify::verify(state, owner, id).await?;
            Ok(c.status == Status::Verified)
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    // A verification that could not run at all (signed out, Postgres away) is the answer;
    // a refused role is in its row.
    let mut verified = 0;
    for result in results {
        verified += usize::from(result?);
    }
    Ok(verified)
}

/// The StackSet that rolls the role into every account of the batch, each instance with its
/// own connection's ExternalId as a parameter override.
pub fn stack_set(principal: &str, rows: &[BulkRow], read_only: bool) -> BulkGuide {
    let template = guide::cloudformation_template(principal, "");
    let access = if read_only { "ReadOnly" } else { "ReadWrite" };
    let mut script = format!(
        "# Once, from the organisation's management (or a delegated administrator) account:\n\
         aws cloudformation create-stack-set --stack-set-name crossview-role \\\n\
         \x20 --template-body file://crossview-role.template.json --capabilities CAPABILITY_NAMED_IAM \\\n\
         \x20 --permission-model SERVICE_MANAGED --auto-deployment Enabled=false \\\n\
         \x20 --parameters ParameterKey=CrossviewPrincipal,ParameterValue={principal} \\\n\
         \x20   ParameterKey=AccessLevel,ParameterValue={access}\n\n\
         # Then one instance per account, each with its own ExternalId (StackSets runs one\n\
         # operation at a time: wait for each to finish). Replace ou-xxxx with the accounts' OU.\n"
    );
    for row in rows {
        let role = row.role_arn.rsplit('/').next().unwrap_or(guide::ROLE_NAME);
        script.push_str(&format!(
            "aws cloudformation create-stack-instances --stack-set-name crossview-role --regions us-east-1 \\\n\
             \x20 --deployment-targets OrganizationalUnitIds=ou-xxxx,Accounts={},AccountFilterType=INTERSECTION \\\n\
             \x20 --parameter-overrides ParameterKey=ExternalId,ParameterValue={} ParameterKey=RoleName,ParameterValue={role}\n",
            row.account_id, row.external_id
        ));
    }
    BulkGuide {
        template: serde_json::to_string_pretty(&template).unwrap_or_default(),
        script,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_come_as_lines_or_as_a_stack_sets_instances() {
        let typed = parse(
            "111122223333\n# a comment\n\n444455556666, other-role\n111122223333",
            "crossview-access",
        )
        .unwrap();
        let arns: Vec<&str> = typed.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::111122223333:role/crossview-access",
                "arn:aws:iam::444455556666:role/other-role"
            ]
        );
        let pasted = r#"{"Summaries": [{"StackSetId": "crossview-role:1", "Region": "us-east-1",
            "Account": "777788889999", "Status": "CURRENT"}]}"#;
        let from_json = parse(pasted, "crossview-access").unwrap();
        assert_eq!(from_json[0].account_id, "777788889999");
        let bad = parse("111122223333\n12345", "r").unwrap_err().to_string();
        assert!(bad.contains("line 2") && bad.contains("12345"), "{bad}");
        assert!(parse("  \n", "r").is_err());
        let many = (0..=MOST)
            .map(|n| format!("{:012}", n))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(parse(&many, "r")
            .unwrap_err()
            .to_string()
            .contains("at most 100"));
        assert!(parse("111122223333 bad/role*", "r").is_err());
    }
}
