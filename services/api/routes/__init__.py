"""The API by resource: one router per module, gathered in ``services.api.app``."""
