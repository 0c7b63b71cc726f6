//! The instructions for creating the role: trust policy, permission policies, a CloudFormation
//! template, a quick-create link and AWS CLI commands. All JSON is built with serde, never by
//! pasting strings together.

use serde_json::{json, Value};

use crate::{connections::SetupGuide, iam::Action, url::encode_path};

/// The role name the instructions suggest.
pub const ROLE_NAME: &str = "crossview-access";

fn trust_statement(principal: Value, external_id: Value) -> Value {
    json!({
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": "sts:AssumeRole",
        "Condition": { "StringEquals": { "sts:ExternalId": external_id } },
    })
}

pub fn trust_policy(principal_arn: &str, external_id: &str) -> Value {
    json!({ "Version": "2012-10-17", "Statement": [trust_statement(json!(principal_arn), json!(external_id))] })
}

pub fn permissions_policy(read_write: bool) -> Value {
    let mut actions = Action::READ.to_vec();
    if read_write {
        actions.extend(Action::WRITE);
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "CrossviewBrowse", "Effect": "Allow", "Action": actions, "Resource": "*" }],
    })
}

/// A CloudFormation template (JSON) whose parameters default to this connection's values.
/// The ExternalId is a plain parameter, not NoEcho: it is an identifier, not a secret.
pub fn cloudformation_template(principal_arn: &str, external_id: &str) -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "A role that lets Crossview browse S3 in this account, only with Crossview's ExternalId.",
        "Parameters": {
            "CrossviewPrincipal": { "Type": "String", "Default": principal_arn, "Description": "Crossview's AWS principal (do not change)" },
            "ExternalId": { "Type": "String", "Default": external_id, "Description": "The ExternalId Crossview generated for this connection" },
            "AccessLevel": { "Type": "String", "Default": "ReadOnly", "AllowedValues": ["ReadOnly", "ReadWrite"] },
            "RoleName": { "Type": "String", "Default": ROLE_NAME },
        },
        "Conditions": { "ReadWrite": { "Fn::Equals": [{ "Ref": "AccessLevel" }, "ReadWrite"] } },
        "Resources": {
            "CrossviewRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": { "Ref": "RoleName" },
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [trust_statement(json!({ "Ref": "CrossviewPrincipal" }), json!({ "Ref": "ExternalId" }))],
                    },
                    "Policies": [{
                        "PolicyName": "crossview-browse",
                        "PolicyDocument": { "Fn::If": ["ReadWrite", permissions_policy(true), permissions_policy(false)] },
                    }],
                },
            },
        },
        "Outputs": { "RoleArn": { "Value": { "Fn::GetAtt": ["CrossviewRole", "Arn"] } } },
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

pub fn build(principal_arn: &str, external_id: &str, template_url: Option<&str>) -> SetupGuide {
    let trust = pretty(&trust_policy(principal_arn, external_id));
    let read_only = pretty(&permissions_policy(false));
    // Quick-create takes the template from S3 and pre-fills its parameters.
    let quick_create_url = template_url.map(|url| {
        format!(
            "https://console.aws.amazon.com/cloudformation/home#/stacks/quickcreate?templateURL={}&stackName={ROLE_NAME}&param_ExternalId={}&param_CrossviewPrincipal={}",
            encode_path(url),
            encode_path(external_id),
            encode_path(principal_arn)
        )
    });
    let cli_commands = format!(
        "cat > crossview-trust.json <<'JSON'\n{trust}\nJSON\n\
         cat > crossview-permissions.json <<'JSON'\n{read_only}\nJSON\n\
         aws iam create-role --role-name {ROLE_NAME} --max-session-duration 3600 \\\n  --assume-role-policy-document file://crossview-trust.json\n\
         aws iam put-role-policy --role-name {ROLE_NAME} --policy-name crossview-browse \\\n  --policy-document file://crossview-permissions.json\n\
         aws iam get-role --role-name {ROLE_NAME} --query Role.Arn --output text\n"
    );
    SetupGuide {
        principal_arn: principal_arn.to_owned(),
        trust_policy: trust,
        read_only_policy: read_only,
        read_write_policy: pretty(&permissions_policy(true)),
        cloudformation_template: pretty(&cloudformation_template(principal_arn, external_id)),
        quick_create_url,
        cli_commands,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:iam::111122223333:user/crossview";

    #[test]
    fn trust_policy_names_the_principal_and_requires_the_id() {
        let guide = build(ARN, "Abc123", None);
        let trust: Value = serde_json::from_str(&guide.trust_policy).unwrap();
        let statement = &trust["Statement"][0];
        assert_eq!(statement["Principal"]["AWS"], ARN);
        assert_eq!(statement["Action"], "sts:AssumeRole");
        assert_eq!(
            statement["Condition"]["StringEquals"]["sts:ExternalId"],
            "Abc123"
        );
        assert!(guide.cli_commands.contains(&guide.trust_policy));
        assert_eq!(guide.quick_create_url, None);
    }

    #[test]
    fn read_write_adds_writes_to_read_only() {
        let ro = permissions_policy(false).to_string();
        let rw = permissions_policy(true).to_string();
        assert!(
            !ro.contains("s3:PutObject")
                && rw.contains("s3:PutObject")
                && rw.contains("s3:GetObject")
        );
    }

    #[test]
    fn template_defaults_to_this_connection_and_quick_create_fills_it() {
        let guide = build(
            ARN,
            "Abc123",
            Some("https://bucket.s3.amazonaws.com/crossview.json"),
        );
        let template: Value = serde_json::from_str(&guide.cloudformation_template).unwrap();
        assert_eq!(template["Parameters"]["ExternalId"]["Default"], "Abc123");
        assert!(template["Parameters"]["ExternalId"].get("NoEcho").is_none());
        let url = guide.quick_create_url.unwrap();
        assert!(
            url.contains("templateURL=https%3A//bucket.s3.amazonaws.com/crossview.json"),
            "{url}"
        );
        assert!(url.contains("param_ExternalId=Abc123"));
    }
}
