"""OAuth 2.0 sign-in for Microsoft 365 (msal) and Google (google-auth): token caches sealed at rest,
refreshed before expiry, failures that put the account into ``auth_failed`` instead of a retry loop."""
