from tests.support.oauth_world import world  # noqa: F401  (the fixture)
