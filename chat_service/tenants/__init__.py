"""Marketplaces (tenants): signing secrets, widget origins, server credentials."""
