"""Publishers, one per platform. ``publisher_for`` is the only place that picks one."""

from __future__ import annotations

import httpx
from django.conf import settings

from coaching.publishing.base import Publisher
from coaching.publishing.bluesky import BlueskyPublisher
from coaching.publishing.mastodon import MastodonPublisher
from coaching.publishing.x import XPublisher
from sandbox import outbound
from sandbox.models import WorkplaceAccount

BLUESKY_DEFAULT_SERVICE = "https://bsky.social"


def publisher_for(account: WorkplaceAccount) -> Publisher:
    read_timeout = settings.PUBLISH_READ_TIMEOUT
    if account.platform == WorkplaceAccount.Platform.X:
        return XPublisher(
            base_url=account.api_base_url or settings.X_API_BASE_URL,
            public_base_url=settings.X_PUBLIC_BASE_URL,
            access_token=account.access_token,
            user_id=account.remote_user_id or None,
            username=account.handle,
            timeout=httpx.Timeout(read_timeout, connect=settings.PUBLISH_CONNECT_TIMEOUT),
            refresh_token=account.refresh_token,
            client_id=settings.X_CLIENT_ID,
            client_secret=settings.X_CLIENT_SECRET,
        )
    if account.platform == WorkplaceAccount.Platform.MASTODON:
        return MastodonPublisher(
            api_base_url=account.api_base_url,
            access_token=account.access_token,
            timeout=read_timeout,
            session=outbound.checked_session(),
            client_id=account.client_id,
            client_secret=account.client_secret,
        )
    if account.platform == WorkplaceAccount.Platform.BLUESKY:
        return BlueskyPublisher(
            service_url=account.api_base_url or BLUESKY_DEFAULT_SERVICE,
            handle=account.handle,
            app_password=account.app_password,
            session=account.platform_session or None,
            public_base_url=settings.BLUESKY_PUBLIC_BASE_URL,
            timeout=read_timeout,
            transport=outbound.CheckedTransport,
        )
    raise ValueError(f"No publisher for platform {account.platform!r}")
