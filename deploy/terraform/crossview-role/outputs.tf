output "role_arn" {
  description = "The role's ARN: paste it into Crossview's connection page."
  value       = aws_iam_role.crossview.arn
}

output "external_id" {
  description = "The ExternalId the role requires."
  value       = var.external_id
}
