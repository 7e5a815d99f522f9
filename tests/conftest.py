from hypothesis import settings as hypothesis_settings

from tests.fixtures.app import clock, live, live_tenant, services, settings, tenant
from tests.fixtures.browser import browser
from tests.fixtures.servers import real_servers

# No per-example deadline: the suite shares two cores with real servers, and a
# property test asserts what the code does, never how fast (that is bench/'s job).
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")

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
