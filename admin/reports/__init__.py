"""Read-only figures for operators: the notification log and seller response times."""
