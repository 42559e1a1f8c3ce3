"""Sandpit's logging filters (settings.LOGGING names them, so this module imports nothing
that needs the app registry: logging is configured before the apps are loaded)."""

import logging


class QuietRefusals(logging.Filter):
    """On the django.request logger (settings.LOGGING): a refusal (403, a role check that
    said no) is expected, so it is logged as one line with its reason, not with the
    traceback of PermissionDenied and the NotAllowed it came from. Errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            reason = record.exc_info[1]
            if reason is not None and str(reason):
                record.msg = f"{record.msg}: %s"
                record.args = (*(record.args or ()), str(reason))
            record.exc_info = None
            record.exc_text = None
        return True
