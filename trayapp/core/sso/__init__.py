"""IAM Identity Center: sign-in (OIDC), the AWS CLI's shared token cache, and the portal."""
