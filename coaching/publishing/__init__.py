"""Publishers, one per platform. ``publisher_for`` is the only place that picks one."""

import httpx
from django.conf import settings

from coaching.publishing.base import Publisher
from sandbox.models import WorkplaceAccount


def publisher_for(account: WorkplaceAccount) -> Publisher:
    timeout = httpx.Timeout(settings.PUBLISH_READ_TIMEOUT, connect=settings.PUBLISH_CONNECT_TIMEOUT)
    if account.platform == WorkplaceAccount.Platform.X:
        from coaching.publishing.x import XPublisher

        return XPublisher(
            base_url=account.api_base_url or settings.X_API_BASE_URL,
            public_base_url=settings.X_PUBLIC_BASE_URL,
            access_token=account.access_token,
            user_id=account.remote_user_id or None,
            username=account.handle,
            timeout=timeout,
        )
    raise ValueError(f"No publisher for platform {account.platform!r}")
