//! The instructions for creating the role: trust policy, permission policies, a CloudFormation
//! template, a quick-create link and AWS CLI commands. All JSON is built with serde, never by
//! pasting strings together.

use serde_json::{json, Value};

use crate::{connections::SetupGuide, iam::Action, url::encode_path};

/// The role name the instructions suggest.
pub const ROLE_NAME: &str = crate::connections::DEFAULT_ROLE_NAME;

fn trust_statement(principal: Value, external_id: Value) -> Value {
    json!({
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": "sts:AssumeRole",
        "Condition": { "StringEquals": { "sts:ExternalId": external_id } },
    })
}

pub fn trust_policy(principal_arn: &str, external_id: &str) -> Value {
    trust_policy_for(principal_arn, &[external_id])
}

/// The trust policy admitting any of `ids` (while an ExternalId is rotated: the new and the old);
/// one ID is written as a string, as people expect to read it.
pub fn trust_policy_for(principal_arn: &str, ids: &[&str]) -> Value {
    let ids = match ids {
        [one] => json!(one),
        many => json!(many),
    };
    json!({ "Version": "2012-10-17", "Statement": [trust_statement(json!(principal_arn), ids)] })
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

/// Where the generated Terraform finds Crossview's module (deploy/terraform/crossview-role in
/// its repository): beside the caller's code, as the page tells people to copy it.
pub const TERRAFORM_MODULE: &str = "./modules/crossview-role";

/// A call of Crossview's Terraform module with this connection's values; an organisation
/// repeats it per account (each with its connection's own ExternalId). Strings are JSON-quoted,
/// which HCL reads the same.
pub fn terraform(principal_arn: &str, external_id: &str, read_write: bool) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let access = if read_write {
        "read-write"
    } else {
        "read-only"
    };
    format!(
        "# The role Crossview assumes in this account, only with this connection's ExternalId.\n\
         module \"crossview_role\" {{\n\
         \x20 source = {}\n\n\
         \x20 crossview_principal_arn = {}\n\
         \x20 external_id             = {}\n\
         \x20 access                  = {}\n\n\
         \x20 # Only these buckets (and folders), instead of every bucket of the account:\n\
         \x20 # locations = [{{ bucket = \"my-bucket\", prefix = \"reports/\" }}]\n\
         \x20 # Keys of SSE-KMS buckets the role must use:\n\
         \x20 # kms_key_arns = [\"arn:aws:kms:eu-west-1:111122223333:key/...\"]\n\
         \x20 # Let the connection doctor fix a bucket's CORS rule with one click:\n\
         \x20 # allow_cors_fix = true\n\
         }}\n\n\
         output \"crossview_role_arn\" {{\n\
         \x20 value = module.crossview_role.role_arn\n\
         }}\n",
        quoted(TERRAFORM_MODULE),
        quoted(principal_arn),
        quoted(external_id),
        quoted(access),
    )
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

pub fn build(
    principal_arn: &str,
    external_id: &str,
    template_url: Option<&str>,
    read_write: bool,
) -> SetupGuide {
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
        terraform: terraform(principal_arn, external_id, read_write),
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
        let guide = build(ARN, "Abc123", None, false);
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
            true,
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

    #[test]
    fn the_terraform_module_names_every_action_the_policies_do() {
        // IAM's action names ignore case: the module writes s3:GetBucketCORS as AWS documents it.
        let module = include_str!("../../../../deploy/terraform/crossview-role/main.tf")
            .to_ascii_lowercase();
        for action in Action::READ.iter().chain(&Action::WRITE) {
            let quoted = format!("\"{}\"", action.name().to_ascii_lowercase());
            assert!(module.contains(&quoted), "the module lacks {action}");
        }
        let snippet = terraform(ARN, "Abc123", true);
        assert!(
            snippet.contains("external_id             = \"Abc123\""),
            "{snippet}"
        );
        assert!(snippet.contains("access                  = \"read-write\""));
    }
}
