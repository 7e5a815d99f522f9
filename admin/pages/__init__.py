"""Page handlers of the console, one module per area; each thin, delegating to services."""
