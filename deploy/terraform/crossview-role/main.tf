# A role in one AWS account that Crossview may assume, only with the ExternalId it generated for
# the connection, and only to do what Crossview does: the same actions the connection page's
# CloudFormation template and policies name.

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  read_write = var.access == "read-write"
  everywhere = length(var.locations) == 0

  bucket_arns = local.everywhere ? ["arn:${local.partition}:s3:::*"] : distinct([
    for l in var.locations : "arn:${local.partition}:s3:::${l.bucket}"
  ])
  object_arns = local.everywhere ? ["arn:${local.partition}:s3:::*/*"] : [
    for l in var.locations : "arn:${local.partition}:s3:::${l.bucket}/${l.prefix}*"
  ]

  # Browsing, versions, and what the connection doctor reads of each bucket.
  bucket_reads = [
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketVersioning",
    "s3:GetBucketCORS",
    "s3:GetLifecycleConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPublicAccessBlock",
  ]
  object_reads = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
  # Uploads (resumable multipart ones too), deletes, copies and moves.
  bucket_writes = ["s3:ListBucketMultipartUploads"]
  object_writes = [
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
  ]
  kms_actions = local.read_write ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]

  # During a rotation the trust admits the new ExternalId and the one it replaces.
  external_ids = distinct(concat([var.external_id], var.previous_external_ids))
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "CrossviewWithItsExternalId"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.crossview_principal_arn]
    }
    # Without its ExternalId (or with any other) Crossview is refused: the confused deputy's
    # guard. Crossview's verification refuses a role that lets either through.
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = local.external_ids
    }
  }
}

data "aws_iam_policy_document" "access" {
  dynamic "statement" {
    for_each = local.everywhere ? [1] : []
    content {
      sid       = "ListTheAccountsBuckets"
      effect    = "Allow"
      actions   = ["s3:ListAllMyBuckets"]
      resources = ["*"]
    }
  }

  statement {
    sid       = "ReadTheBuckets"
    effect    = "Allow"
    actions   = concat(local.bucket_reads, local.read_write ? local.bucket_writes : [])
    resources = local.bucket_arns
  }

  statement {
    sid       = "ReadTheObjects"
    effect    = "Allow"
    actions   = concat(local.object_reads, local.read_write ? local.object_writes : [])
    resources = local.object_arns
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "UseTheBucketsKeys"
      effect    = "Allow"
      actions   = local.kms_actions
      resources = var.kms_key_arns
    }
  }

  dynamic "statement" {
    for_each = var.allow_cors_fix ? [1] : []
    content {
      sid       = "LetTheDoctorFixCors"
      effect    = "Allow"
      actions   = ["s3:PutBucketCORS"]
      resources = local.bucket_arns
    }
  }
}

resource "aws_iam_role" "crossview" {
  name                 = var.role_name
  description          = "Lets Crossview browse S3 in this account, only with Crossview's ExternalId."
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "access" {
  name   = "crossview-browse"
  role   = aws_iam_role.crossview.id
  policy = data.aws_iam_policy_document.access.json
}
