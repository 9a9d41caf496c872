"""Every telephony adapter, built from Settings. A provider whose secret is unset still gets
its route, and refuses every request with 401 until the secret is set."""

from __future__ import annotations

from bot.config import Settings
from handlers.telephony.aircall import AircallAdapter
from handlers.telephony.base import TelephonyAdapter
from handlers.telephony.connect import ConnectAdapter
from handlers.telephony.dialpad import DialpadAdapter
from handlers.telephony.generic import GenericAdapter
from handlers.telephony.genesys import GenesysAdapter
from handlers.telephony.twilio import TwilioAdapter
from handlers.telephony.webex import WebexAdapter
from handlers.telephony.zendesk import ZendeskAdapter
from handlers.telephony.zoom import ZoomAdapter


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter else None


def build_adapters(settings: Settings) -> dict[str, TelephonyAdapter]:
    return {
        "generic": GenericAdapter(_secret(settings.webhook_secret)),
        "twilio": TwilioAdapter(_secret(settings.twilio_auth_token)),
        "aircall": AircallAdapter(_secret(settings.aircall_webhook_token)),
        "dialpad": DialpadAdapter(_secret(settings.dialpad_webhook_secret)),
        "zendesk": ZendeskAdapter(_secret(settings.zendesk_webhook_secret)),
        "genesys": GenesysAdapter(_secret(settings.genesys_eventbridge_secret)),
        "connect": ConnectAdapter(_secret(settings.connect_eventbridge_secret)),
        "zoom": ZoomAdapter(_secret(settings.zoom_webhook_secret)),
        "webex": WebexAdapter(_secret(settings.webex_webhook_secret)),
    }
