"""Events out: per-tenant webhooks, a store-backed outbox, signed deliveries."""
