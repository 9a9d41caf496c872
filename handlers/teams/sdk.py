"""The Teams SDK for Python (`microsoft-teams-apps`), imported and configured in one place.

Importing `microsoft_teams.apps` emits a preview warning for an HTML-widget feature Breather
does not use, so the import is done here with that one warning silenced. Everything else in
`handlers/teams` imports the SDK's names from this module.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from microsoft_teams.common import Client, ClientOptions
from microsoft_teams.common.experimental import ExperimentalWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ExperimentalWarning)
    from microsoft_teams.apps import ActivityContext, App, HttpServerAdapter
    from microsoft_teams.apps.http.adapter import HttpMethod, HttpRequest, HttpRouteHandler

from microsoft_teams.api.activities import ActivityTypeAdapter
from microsoft_teams.api.activities.install_update.add import InstalledActivity
from microsoft_teams.api.activities.install_update.remove import UninstalledActivity
from microsoft_teams.api.activities.invoke.adaptive_card.action import AdaptiveCardInvokeActivity
from microsoft_teams.api.activities.invoke.message_extension import (
    MessageExtensionFetchTaskInvokeActivity,
    MessageExtensionSubmitActionInvokeActivity,
)
from microsoft_teams.api.activities.message.message import MessageActivity, MessageActivityInput
from microsoft_teams.api.auth.cloud_environment import CloudEnvironment
from microsoft_teams.api.auth.credentials import TokenProviderProtocol
from microsoft_teams.api.clients.api_client import ApiClient
from microsoft_teams.api.models import ActivityBase, HttpError, InnerHttpError
from microsoft_teams.api.models.adaptive_card.adaptive_card_action_response import (
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionErrorResponse,
    AdaptiveCardActionMessageResponse,
)
from microsoft_teams.api.models.attachment.attachment import Attachment
from microsoft_teams.api.models.entity.mention_entity import MentionEntity
from microsoft_teams.api.models.invoke_response import (
    AdaptiveCardInvokeResponse,
    MessagingExtensionActionInvokeResponse,
)
from microsoft_teams.api.models.task_module import (
    CardTaskModuleTaskInfo,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
)
from microsoft_teams.cards import AdaptiveCard

from bot.config import Settings

__all__ = [
    "ActivityBase",
    "ActivityContext",
    "ActivityTypeAdapter",
    "AdaptiveCard",
    "AdaptiveCardActionCardResponse",
    "AdaptiveCardActionErrorResponse",
    "AdaptiveCardActionMessageResponse",
    "AdaptiveCardInvokeActivity",
    "AdaptiveCardInvokeResponse",
    "ApiClient",
    "App",
    "Attachment",
    "CardTaskModuleTaskInfo",
    "Client",
    "ClientOptions",
    "CloudEnvironment",
    "HttpError",
    "HttpMethod",
    "HttpRequest",
    "HttpRouteHandler",
    "HttpServerAdapter",
    "InnerHttpError",
    "InstalledActivity",
    "MentionEntity",
    "MessageExtensionFetchTaskInvokeActivity",
    "MessageExtensionSubmitActionInvokeActivity",
    "MessagingExtensionActionInvokeResponse",
    "MessageActivity",
    "MessageActivityInput",
    "TaskModuleContinueResponse",
    "TaskModuleMessageResponse",
    "TokenProviderProtocol",
    "TokenSource",
    "UninstalledActivity",
    "make_teams_app",
]

MESSAGES_PATH = "/api/messages"
HTTP_TIMEOUT_S = 10.0  # the SDK's own default is no timeout at all

# (scope, tenant id) -> bearer token; replaces Entra client credentials (tests, custom vaults).
TokenSource = Callable[[str | list[str], str | None], str]


def make_teams_app(
    settings: Settings,
    adapter: HttpServerAdapter,
    *,
    token: TokenSource | None = None,
    cloud: CloudEnvironment | None = None,
    allow_unauthenticated: bool = False,
) -> App:
    """The SDK's App: validates inbound Bot Framework JWTs and routes activities to handlers.

    `allow_unauthenticated` switches JWT validation off (the SDK's documented local-only
    option); it is a keyword for tests and is never read from the environment. It is always
    passed explicitly, so the SDK's DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS variable cannot
    turn validation off in production.
    """
    secret = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    return App(
        client_id=settings.teams_app_id,
        # With a token source the SDK asks it for tokens instead of Entra (it prefers a secret).
        client_secret=None if token is not None else secret,
        token=token,
        tenant_id=settings.teams_tenant_id,
        service_url=settings.teams_service_url,
        cloud=cloud,
        http_server_adapter=adapter,
        messaging_endpoint=MESSAGES_PATH,
        dangerously_allow_unauthenticated_requests=allow_unauthenticated,
        state=False,
        client=ClientOptions(timeout=HTTP_TIMEOUT_S),
    )
