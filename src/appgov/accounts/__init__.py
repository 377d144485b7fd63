"""People who use the console: local accounts (argon2id), their sessions, and sign-in throttling."""
