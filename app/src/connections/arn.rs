//! Strict parsing of an IAM role ARN, with one clear message per kind of mistake.

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleArn {
    pub partition: String,
    pub account_id: String,
    pub name: String,
    /// The normalised ARN (surrounding spaces removed).
    pub arn: String,
}

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

pub fn parse_role_arn(input: &str) -> Result<RoleArn, AppError> {
    let arn = input.trim();
    if arn.is_empty() {
        return Err(AppError::RoleArnMissing);
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(AppError::ArnFormat);
    };
    if prefix != "arn" {
        return Err(AppError::ArnFormat);
    }
    if !PARTITIONS.contains(&partition) {
        return Err(AppError::ArnPartition);
    }
    if service != "iam" {
        return Err(AppError::ArnService);
    }
    if !region.is_empty() {
        return Err(AppError::ArnRegion);
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::ArnAccount);
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Err(AppError::ArnNotRole);
    };
    // `role/` is followed by an optional path (`a/b/`) and the name, its last segment.
    let (path, name) = match path_and_name.rsplit_once('/') {
        Some((path, name)) => (format!("/{path}/"), name),
        None => ("/".to_owned(), path_and_name),
    };
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if !name_ok {
        return Err(AppError::ArnRoleName);
    }
    let path_ok = path.len() <= 512
        && !path.contains("//")
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !path_ok {
        return Err(AppError::ArnRolePath);
    }
    Ok(RoleArn {
        partition: partition.to_owned(),
        account_id: account.to_owned(),
        name: name.to_owned(),
        arn: arn.to_owned(),
    })
}

/// AWS's own rule for an ExternalId, for deployments that let users supply one.
pub fn valid_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-_".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_roles_with_and_without_paths() {
        let plain = parse_role_arn("  arn:aws:iam::123456789012:role/crossview-access \n").unwrap();
        assert_eq!(
            (plain.account_id.as_str(), plain.name.as_str()),
            ("123456789012", "crossview-access")
        );
        assert_eq!(plain.arn, "arn:aws:iam::123456789012:role/crossview-access");
        let pathed =
            parse_role_arn("arn:aws-us-gov:iam::000000000000:role/teams/data/Reader+1@x").unwrap();
        assert_eq!(
            (pathed.partition.as_str(), pathed.name.as_str()),
            ("aws-us-gov", "Reader+1@x")
        );
    }

    #[test]
    fn each_mistake_has_its_own_message() {
        let cases = [
            ("", AppError::RoleArnMissing),
            ("crossview-access", AppError::ArnFormat),
            ("arn:aws:iam:123456789012:role/x", AppError::ArnFormat),
            ("urn:aws:iam::123456789012:role/x", AppError::ArnFormat),
            (
                "arn:amazon:iam::123456789012:role/x",
                AppError::ArnPartition,
            ),
            ("arn:aws:s3:::my-bucket/role/x", AppError::ArnService),
            (
                "arn:aws:iam:us-east-1:123456789012:role/x",
                AppError::ArnRegion,
            ),
            ("arn:aws:iam::12345678901:role/x", AppError::ArnAccount),
            ("arn:aws:iam::12345678901a:role/x", AppError::ArnAccount),
            ("arn:aws:iam::123456789012:user/alice", AppError::ArnNotRole),
            ("arn:aws:iam::123456789012:role/", AppError::ArnRoleName),
            (
                "arn:aws:iam::123456789012:role/has space",
                AppError::ArnRoleName,
            ),
            (
                "arn:aws:iam::123456789012:role/<script>",
                AppError::ArnRoleName,
            ),
            (
                &format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65)),
                AppError::ArnRoleName,
            ),
            ("arn:aws:iam::123456789012:role/a//b", AppError::ArnRolePath),
            ("arn:aws:iam::123456789012:role/ä/b", AppError::ArnRolePath),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_role_arn(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn external_id_rules_follow_aws() {
        assert!(valid_external_id("ab") && valid_external_id("a+b=c,d.e@f:g/h-i_j"));
        assert!(
            !valid_external_id("a")
                && !valid_external_id("has space")
                && !valid_external_id("ü-umlaut")
        );
        assert!(!valid_external_id(&"x".repeat(1225)));
    }
}
