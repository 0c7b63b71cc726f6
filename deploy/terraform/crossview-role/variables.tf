variable "crossview_principal_arn" {
  description = "Crossview's own AWS principal, as its connection page shows it (the only principal the role trusts)."
  type        = string
}

variable "external_id" {
  description = "The ExternalId Crossview generated for this connection (one per account)."
  type        = string
  validation {
    condition     = can(regex("^[\\w+=,.@:/-]{2,1224}$", var.external_id))
    error_message = "An ExternalId is 2 to 1,224 letters, digits or +=,.@:/- characters."
  }
}

variable "previous_external_ids" {
  description = "While an ExternalId is rotated: the one it replaces, still admitted until Crossview has switched. Remove it then."
  type        = list(string)
  default     = []
}

variable "access" {
  description = "read-only (browse, preview, download, share) or read-write (also upload, delete, copy, move)."
  type        = string
  default     = "read-only"
  validation {
    condition     = contains(["read-only", "read-write"], var.access)
    error_message = "access is read-only or read-write."
  }
}

variable "locations" {
  description = "The buckets (and, if given, the folder in each, ending in /) the role may reach. Empty: every bucket of the account."
  type = list(object({
    bucket = string
    prefix = optional(string, "")
  }))
  default = []
}

variable "kms_key_arns" {
  description = "The KMS keys of SSE-KMS buckets the role must read (kms:Decrypt) and, read-write, write (kms:GenerateDataKey)."
  type        = list(string)
  default     = []
}

variable "allow_cors_fix" {
  description = "Let Crossview's connection doctor merge its CORS rule into a bucket's rules (s3:PutBucketCORS) with one click."
  type        = bool
  default     = false
}

variable "role_name" {
  description = "The role's name."
  type        = string
  default     = "crossview-access"
}

variable "permissions_boundary" {
  description = "An optional permissions boundary for the role."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
