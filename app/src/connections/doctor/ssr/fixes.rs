//! Each finding's exact fix, in the forms people apply one: the JSON to paste, the AWS CLI
//! command, and the CloudFormation or Terraform change. All JSON is built with serde.

use serde_json::{json, Value};

use super::cors::{pretty, Refusal, Rule};
use crate::{
    connections::doctor::{Finding, Fix, Severity},
    connections::parse_role_arn,
    iam::Action,
};

fn text(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A name safe in a policy's and a Terraform resource's name (a bucket's dots and dashes go).
fn slug(bucket: &str) -> String {
    bucket
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

pub fn finding(bucket: &str, code: &'static str, message: String, fix: Option<Fix>) -> Finding {
    Finding {
        bucket: bucket.to_owned(),
        code: code.to_owned(),
        severity: Severity::Problem,
        message,
        fix,
    }
}

/// The connection's role, as the fixes name it.
pub struct Role {
    name: String,
}

impl Role {
    pub fn of(role_arn: &str) -> Self {
        let name = parse_role_arn(role_arn)
            .map(|r| r.name)
            .unwrap_or_else(|_| "ROLE_NAME".to_owned());
        Role { name }
    }

    /// A policy that allows `actions` on `resource`, added to the role.
    pub fn grant(&self, bucket: &str, actions: &[Action], resource: &str) -> Fix {
        let statement = json!({ "Effect": "Allow", "Action": actions, "Resource": resource });
        let policy = json!({ "Version": "2012-10-17", "Statement": [statement] });
        let name = format!("crossview-{}", slug(bucket)).replace('_', "-");
        let cli = format!(
            "cat > {name}.json <<'JSON'\n{}\nJSON\naws iam put-role-policy --role-name {} \\\n  --policy-name {name} --policy-document file://{name}.json\n",
            text(&policy),
            self.name
        );
        let iac = format!(
            "# CloudFormation: add to the role's Policies\n- PolicyName: {name}\n  PolicyDocument: {}\n\n\
             # Terraform\nresource \"aws_iam_role_policy\" \"{}\" {{\n  name   = \"{name}\"\n  role   = \"{}\"\n  policy = jsonencode({})\n}}\n",
            serde_json::to_string(&policy).unwrap_or_default(),
            slug(&name),
            self.name,
            text(&policy),
        );
        Fix {
            json: text(&policy),
            cli,
            iac,
            one_click: false,
        }
    }
}

/// What the browser will meet, in a sentence's second half.
pub fn cors_reason(refusal: Refusal, origin: &str) -> String {
    match refusal {
        Refusal::NoRules => "the bucket has no CORS rule, so the browser may not reach it".into(),
        Refusal::Origin => format!("the bucket's CORS rules do not name {origin}"),
        Refusal::Method => {
            format!("no CORS rule lets {origin} send a ranged GET and a PUT with a Content-Type")
        }
        Refusal::Etag => {
            "the CORS rule does not expose ETag, which a large upload needs to complete".into()
        }
    }
}

/// The bucket's CORS configuration with Crossview's rule first (`after`).
pub fn cors(
    bucket: &str,
    refusal: Refusal,
    origin: &str,
    after: &[Rule],
    one_click: bool,
) -> Finding {
    let configuration = pretty(after);
    let code = match refusal {
        Refusal::NoRules => "cors_missing",
        Refusal::Origin => "cors_origin",
        Refusal::Method => "cors_method",
        Refusal::Etag => "cors_etag",
    };
    let rule = &after[0];
    let list = |items: &[String]| {
        items
            .iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let iac = format!(
        "# Terraform (keep the bucket's other cors_rule blocks after this one)\n\
         resource \"aws_s3_bucket_cors_configuration\" \"{}\" {{\n  bucket = \"{bucket}\"\n  cors_rule {{\n    id              = \"crossview\"\n    allowed_origins = [{}]\n    allowed_methods = [{}]\n    allowed_headers = [\"*\"]\n    expose_headers  = [\"ETag\"]\n    max_age_seconds = 3000\n  }}\n}}\n",
        slug(bucket),
        list(&rule.allowed_origins),
        list(&rule.allowed_methods),
    );
    Finding {
        bucket: bucket.to_owned(),
        code: code.to_owned(),
        severity: Severity::Problem,
        message: format!(
            "Uploads and previews in {bucket} fail in the browser: {}.",
            cors_reason(refusal, origin)
        ),
        fix: Some(Fix {
            cli: format!(
                "cat > cors.json <<'JSON'\n{configuration}\nJSON\naws s3api put-bucket-cors --bucket {bucket} --cors-configuration file://cors.json\n"
            ),
            json: configuration,
            iac,
            one_click,
        }),
    }
}

/// No lifecycle rule aborts the unfinished uploads under `prefix`.
pub fn lifecycle(bucket: &str, prefix: &str) -> Finding {
    let rule = json!({
        "Rules": [{
            "ID": "abort-unfinished-uploads",
            "Status": "Enabled",
            "Filter": { "Prefix": prefix },
            "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 7 },
        }],
    });
    let iac = format!(
        "# Terraform\nresource \"aws_s3_bucket_lifecycle_configuration\" \"{}\" {{\n  bucket = \"{bucket}\"\n  rule {{\n    id     = \"abort-unfinished-uploads\"\n    status = \"Enabled\"\n    filter {{\n      prefix = \"{prefix}\"\n    }}\n    abort_incomplete_multipart_upload {{\n      days_after_initiation = 7\n    }}\n  }}\n}}\n",
        slug(bucket)
    );
    Finding {
        bucket: bucket.to_owned(),
        code: "lifecycle_missing".into(),
        severity: Severity::Advice,
        message: format!(
            "Uploads to {bucket} that are never finished keep their parts, billed, until someone aborts them: no lifecycle rule cleans them up."
        ),
        fix: Some(Fix {
            json: text(&rule),
            cli: format!(
                "# This replaces every lifecycle rule the bucket has: add the rule to those first.\ncat > lifecycle.json <<'JSON'\n{}\nJSON\naws s3api put-bucket-lifecycle-configuration --bucket {bucket} \\\n  --lifecycle-configuration file://lifecycle.json\n",
                text(&rule)
            ),
            iac,
            one_click: false,
        }),
    }
}

/// The role still admits an ExternalId a rotation retired.
pub fn retired(old: &str, principal: &str, current: &str, role_arn: &str) -> Finding {
    let trust = text(&crate::connections::ssr::guide::trust_policy(
        principal, current,
    ));
    let role = Role::of(role_arn).name;
    Finding {
        bucket: String::new(),
        code: "retired_external_id_admitted".into(),
        severity: Severity::Problem,
        message: format!(
            "The role still admits the retired ExternalId {old}. Crossview never uses a retired ID again, so nothing needs it: remove it, so that the role trusts exactly one."
        ),
        fix: Some(Fix {
            cli: format!(
                "cat > trust.json <<'JSON'\n{trust}\nJSON\naws iam update-assume-role-policy --role-name {role} --policy-document file://trust.json\n"
            ),
            json: trust,
            iac: format!(
                "# Terraform: remove \"{old}\" from previous_external_ids\n# CloudFormation: the ExternalId parameter is \"{current}\" alone\n"
            ),
            one_click: false,
        }),
    }
}

/// The role's sessions end before a URL of `lifetime` seconds would: AWS refuses to sign one.
pub fn session_short(role_arn: &str, lifetime: u32) -> Finding {
    let role = Role::of(role_arn).name;
    // MaxSessionDuration is 1 to 12 hours; a URL's session needs at least its lifetime.
    let hours = lifetime.div_ceil(3600).clamp(1, 12) * 3600;
    Finding {
        bucket: String::new(),
        code: "session_too_short".into(),
        severity: Severity::Problem,
        message: format!(
            "Your downloads, previews and uploads fail: a presigned URL dies with the session that signed it, and the role's sessions end before the {lifetime} seconds Crossview signs for (PRESIGN_SECONDS). Share links and grantees' URLs (5 minutes) still work."
        ),
        fix: Some(Fix {
            json: text(&json!({ "MaxSessionDuration": hours })),
            cli: format!(
                "aws iam update-role --role-name {role} --max-session-duration {hours}\n# or, on Crossview's deployment (an administrator): PRESIGN_SECONDS=900\n"
            ),
            iac: format!(
                "# CloudFormation: on the role\nMaxSessionDuration: {hours}\n\n# Terraform: on the aws_iam_role\nmax_session_duration = {hours}\n"
            ),
            one_click: false,
        }),
    }
}

/// S3 refuses a URL of `bucket` older than `cap` seconds (0: older than a minute), shorter than
/// the `lifetime` Crossview signs for.
pub fn link_age(bucket: &str, cap: u32, lifetime: u32) -> Finding {
    let (honoured, setting) = match cap {
        0 => ("S3 honoured only a freshly signed one".to_owned(), 60),
        cap => (format!("S3 honoured one {cap} seconds old"), cap),
    };
    let milliseconds = u64::from(lifetime) * 1000;
    let statement = json!({
        "Sid": "CapSignatureAge",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": { "NumericGreaterThan": { "s3:signatureAge": milliseconds } },
    });
    Finding {
        bucket: bucket.to_owned(),
        code: "signature_age_capped".into(),
        severity: Severity::Problem,
        message: format!(
            "A download or upload link from {bucket} is refused long before the {lifetime} seconds Crossview signs it for ({honoured}): a bucket policy or your organisation's resource control policy refuses older signatures (s3:signatureAge). Sign links for {setting} seconds or less, or let the policy allow {lifetime} seconds."
        ),
        fix: Some(Fix {
            json: text(&statement),
            cli: format!(
                "# On Crossview's deployment (an administrator): sign links for at most what S3 honours\nPRESIGN_SECONDS={setting}\n# or raise the cap in the policy's s3:signatureAge condition to {milliseconds} (the statement above)\n"
            ),
            iac: format!(
                "# Terraform, in the bucket policy's (or the RCP's) deny statement\ncondition {{\n  test     = \"NumericGreaterThan\"\n  variable = \"s3:signatureAge\"\n  values   = [\"{milliseconds}\"]\n}}\n"
            ),
            one_click: false,
        }),
    }
}
