"""Twilio TaskRouter Workers: a protected break is the Activity named by TWILIO_BREAK_ACTIVITY.

Basic auth with the account SID and auth token. The break Activity's SID is looked up once by
its friendly name and must be unavailable (an available one would still route calls). The
Worker's ETag, when Twilio sends one, guards the restore with If-Match: a status the agent set
by hand meanwhile makes the write fail (412) instead of being overwritten.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import httpx

from bot.recovery.phone import PhoneRefused, PhoneStatus, PhoneUnavailable
from handlers.telephony.rest import RestApi


class TwilioTaskRouter:
    provider = "twilio"
    label = "Twilio"

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        workspace_sid: str,
        break_activity: str,
    ) -> None:
        self.rest = RestApi(
            client, label=self.label, base_url=base_url, auth=httpx.BasicAuth(account_sid, auth_token)
        )
        self.workspace = f"/v1/Workspaces/{quote(workspace_sid, safe='')}"
        self.break_activity = break_activity
        self._break_sid: str | None = None
        self._lock = threading.Lock()

    def break_activity_sid(self) -> str:
        with self._lock:
            if self._break_sid is None:
                self._break_sid = self._find_break_activity()
            return self._break_sid

    def _find_break_activity(self) -> str:
        body = self.rest.json(
            "GET", f"{self.workspace}/Activities", params={"FriendlyName": self.break_activity}
        )
        activities: list[Any] = body.get("activities") or []
        wanted = self.break_activity.casefold()
        for activity in activities:
            if isinstance(activity, dict) and str(activity.get("friendly_name", "")).casefold() == wanted:
                if activity.get("available"):
                    raise PhoneRefused(
                        f"Twilio: the Activity {self.break_activity!r} still routes calls (available); "
                        "set TWILIO_BREAK_ACTIVITY to an unavailable one"
                    )
                return str(activity["sid"])
        raise PhoneRefused(
            f"Twilio: no TaskRouter Activity named {self.break_activity!r} (TWILIO_BREAK_ACTIVITY)"
        )

    def _worker(self, worker_sid: str) -> str:
        return f"{self.workspace}/Workers/{quote(worker_sid, safe='')}"

    def read_status(self, user_id: str) -> PhoneStatus:
        response = self.rest.call("GET", self._worker(user_id))
        try:
            activity = response.json().get("activity_sid")
        except (ValueError, AttributeError):
            activity = None
        if not activity:
            raise PhoneUnavailable("Twilio GET: the Worker has no activity_sid")
        return PhoneStatus(str(activity), version=response.headers.get("etag"))

    def set_break(self, user_id: str) -> PhoneStatus:
        sid = self.break_activity_sid()
        # A call being offered right now goes to someone else rather than block the break.
        self.rest.call(
            "POST", self._worker(user_id), data={"ActivitySid": sid, "RejectPendingReservations": "true"}
        )
        return PhoneStatus(sid)

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        headers = {"If-Match": expected.version} if expected is not None and expected.version else {}
        self.rest.call("POST", self._worker(user_id), data={"ActivitySid": status.value}, headers=headers)
