"""Photos in conversations: upload, safe re-encoding, encrypted storage, signed links."""
