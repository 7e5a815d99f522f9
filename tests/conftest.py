from tests.fixtures.app import clock, live, live_tenant, services, settings, tenant
from tests.fixtures.browser import browser
from tests.fixtures.servers import real_servers

__all__ = [
    "browser",
    "clock",
    "live",
    "live_tenant",
    "real_servers",
    "services",
    "settings",
    "tenant",
]
