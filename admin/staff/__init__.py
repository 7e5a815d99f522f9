"""Staff of the console: accounts, password sign-in with lockout, server-side sessions."""
