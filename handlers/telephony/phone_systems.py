"""Every phone system Breather can put agents on a break in, built from Settings.

A provider is present only when all its REST credentials are set; agents whose phone system
is missing here are asked to set their break themselves.
"""

from __future__ import annotations

import httpx

from bot.config import Settings
from bot.recovery.phone import PhoneSystem
from handlers.telephony.aircall_api import AircallUsers
from handlers.telephony.connect_api import ConnectAgentStatus
from handlers.telephony.dialpad_api import DialpadUsers
from handlers.telephony.genesys_api import GenesysPresence
from handlers.telephony.twilio_api import TwilioTaskRouter
from handlers.telephony.webex_api import WebexAgentState
from handlers.telephony.zoom_api import ZoomContactCenterUsers


def build_phone_systems(settings: Settings, client: httpx.Client) -> dict[str, PhoneSystem]:
    systems: dict[str, PhoneSystem] = {}
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_workspace_sid:
        systems["twilio"] = TwilioTaskRouter(
            client,
            base_url=settings.twilio_api_url,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            workspace_sid=settings.twilio_workspace_sid,
            break_activity=settings.twilio_break_activity,
        )
    if settings.aircall_api_id and settings.aircall_api_token:
        systems["aircall"] = AircallUsers(
            client,
            base_url=settings.aircall_api_url,
            api_id=settings.aircall_api_id,
            api_token=settings.aircall_api_token.get_secret_value(),
        )
    if settings.dialpad_api_key:
        systems["dialpad"] = DialpadUsers(
            client, base_url=settings.dialpad_api_url, api_key=settings.dialpad_api_key.get_secret_value()
        )
    if settings.genesys_client_id and settings.genesys_client_secret:
        systems["genesys"] = GenesysPresence(
            client,
            api_url=settings.genesys_api_url,
            login_url=settings.genesys_login_url,
            client_id=settings.genesys_client_id,
            client_secret=settings.genesys_client_secret.get_secret_value(),
            break_presence=settings.genesys_break_presence,
        )
    if (
        settings.connect_instance_id
        and settings.connect_region
        and settings.connect_access_key_id
        and settings.connect_secret_access_key
    ):
        token = settings.connect_session_token
        systems["connect"] = ConnectAgentStatus(
            client,
            api_url=settings.connect_api_url or f"https://connect.{settings.connect_region}.amazonaws.com",
            region=settings.connect_region,
            instance_id=settings.connect_instance_id,
            access_key_id=settings.connect_access_key_id,
            secret_access_key=settings.connect_secret_access_key.get_secret_value(),
            session_token=token.get_secret_value() if token else None,
            break_status=settings.connect_break_status,
        )
    if (
        settings.zoom_account_id
        and settings.zoom_client_id
        and settings.zoom_client_secret
        and settings.zoom_break_status_id
    ):
        systems["zoom"] = ZoomContactCenterUsers(
            client,
            api_url=settings.zoom_api_url,
            oauth_url=settings.zoom_oauth_url,
            account_id=settings.zoom_account_id,
            client_id=settings.zoom_client_id,
            client_secret=settings.zoom_client_secret.get_secret_value(),
            break_status_id=settings.zoom_break_status_id,
            break_sub_status_id=settings.zoom_break_sub_status_id,
        )
    if (
        settings.webex_client_id
        and settings.webex_client_secret
        and settings.webex_refresh_token
        and settings.webex_break_aux_code_id
    ):
        systems["webex"] = WebexAgentState(
            client,
            api_url=settings.webex_api_url,
            token_url=settings.webex_token_url,
            client_id=settings.webex_client_id,
            client_secret=settings.webex_client_secret.get_secret_value(),
            refresh_token=settings.webex_refresh_token.get_secret_value(),
            break_aux_code_id=settings.webex_break_aux_code_id,
        )
    return systems
