"""Installing Breather for people through Microsoft Graph (`breather teams install`).

Teams lets a bot write only to people who have it. An operator can install it for them with
the application permission TeamsAppInstallation.ReadWriteSelfForUser.All ("self": the app may
install only itself). Each install makes Teams send Breather an installation update, which is
when Breather learns the person's chat; `serve` must be running to hear it.

Errors name the permission that is missing, never a token or a response body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

import httpx

from bot.config import Settings
from bot.errors import BreatherError
from handlers.teams.endpoint import TeamsEndpoint
from handlers.teams.sdk import TokenSource, make_teams_app
from handlers.telephony.rest import retry_after

INSTALL_PERMISSION = "TeamsAppInstallation.ReadWriteSelfForUser.All"
CATALOGUE_PERMISSION = "AppCatalog.Read.All"
ATTEMPTS = 4
MAX_WAIT_S = 30.0  # Graph throttles installs; a longer Retry-After fails that person only
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
TOKEN_REUSE_S = 30 * 60.0  # app-only tokens live about an hour


class GraphError(BreatherError):
    """Graph refused or could not be reached; the message says what to do."""


class Outcome(StrEnum):
    INSTALLED = "installed"
    ALREADY = "already installed"
    NOT_FOUND = "not found in your directory"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    person: str  # their e-mail address, as in breather.yml
    outcome: Outcome
    detail: str = ""


class Graph:
    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        token: Callable[[], str],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.sleep = sleep

    def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """One Graph request, retried on 429/503/504 as long as Graph's Retry-After allows."""
        headers = {"Authorization": f"Bearer {self.token()}"}
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self.client.request(
                    method,
                    self.base_url + path,
                    headers=headers,
                    timeout=TIMEOUT,
                    **kwargs,  # type: ignore[arg-type]
                )
            except httpx.TransportError as error:
                if attempt == ATTEMPTS:
                    raise GraphError(f"cannot reach Microsoft Graph ({type(error).__name__})") from None
                self.sleep(2.0**attempt)
                continue
            if response.status_code not in (429, 503, 504) or attempt == ATTEMPTS:
                return response
            wait = retry_after(response) or 2.0**attempt
            if wait > MAX_WAIT_S:
                return response
            self.sleep(wait)
        raise AssertionError("unreachable")

    def catalogue_id(self, app_id: str) -> str:
        """The app's id in the organisation's catalogue, found by the manifest's id."""
        response = self._call(
            "GET", "/appCatalogs/teamsApps", params={"$filter": f"externalId eq '{app_id}'"}
        )
        if response.status_code in (401, 403):
            raise GraphError(
                f"Graph refused to read the app catalogue (HTTP {response.status_code}): grant the app "
                f"registration {CATALOGUE_PERMISSION}, or pass --catalogue-id with the app's id from "
                "the Teams admin center"
            )
        if response.status_code != 200:
            raise GraphError(f"Graph could not read the app catalogue (HTTP {response.status_code})")
        apps = response.json().get("value") or []
        if not apps:
            raise GraphError(
                f"no app with id {app_id} in your organisation's Teams catalogue: upload the package "
                "from `breather teams package` first (Teams admin center > Manage apps > Upload)"
            )
        return str(apps[0]["id"])

    def install(self, person: str, catalogue_id: str) -> Result:
        body = {"teamsApp@odata.bind": f"{self.base_url}/appCatalogs/teamsApps/{catalogue_id}"}
        path = f"/users/{quote(person, safe='@')}/teamwork/installedApps"
        response = self._call("POST", path, json=body)
        status = response.status_code
        if status in (200, 201, 204):
            return Result(person, Outcome.INSTALLED)
        if status == 409:
            return Result(person, Outcome.ALREADY)
        if status == 404:
            return Result(person, Outcome.NOT_FOUND)
        if status in (401, 403):
            raise GraphError(
                f"Graph refused to install Breather (HTTP {status}): grant the app registration the "
                f"application permission {INSTALL_PERMISSION} and admin consent"
            )
        return Result(person, Outcome.FAILED, f"HTTP {status}")

    def install_all(self, people: Iterable[str], catalogue_id: str) -> Iterator[Result]:
        for person in people:
            yield self.install(person, catalogue_id)


def install_for(
    settings: Settings,
    people: Iterable[str],
    *,
    catalogue_id: str | None = None,
    token: TokenSource | None = None,
) -> Iterator[Result]:
    """Install Breather for each person (an e-mail address or UPN), one Result each."""
    if not settings.teams_app_id:
        raise GraphError("TEAMS_APP_ID is not set: it is the Teams app's Application (client) ID")
    if token is None and settings.teams_app_password is None:
        raise GraphError("TEAMS_APP_PASSWORD is not set: Graph needs the app's client secret")
    if not settings.teams_tenant_id:
        raise GraphError("TEAMS_TENANT_ID is not set: app-only Graph tokens are issued per tenant")
    with httpx.Client(follow_redirects=False, headers={"User-Agent": "breather"}) as client:
        graph = Graph(client, base_url=settings.teams_graph_url, token=graph_token(settings, token=token))
        app_in_catalogue = catalogue_id or graph.catalogue_id(settings.teams_app_id)
        yield from graph.install_all(people, app_in_catalogue)


def graph_token(settings: Settings, *, token: TokenSource | None = None) -> Callable[[], str]:
    """An app-only Graph token from the Teams app's own credentials (the SDK asks Entra)."""
    app = make_teams_app(settings, TeamsEndpoint(), token=token)
    scope = app.cloud.graph_scope
    cached: list[tuple[str, float]] = []

    def get() -> str:
        if cached and time.monotonic() - cached[0][1] < TOKEN_REUSE_S:
            return cached[0][0]
        try:
            found = asyncio.run(app.token_provider.get_app_token(scope, settings.teams_tenant_id))
        except Exception as error:  # MSAL's errors carry no secret, but its messages can be long
            raise GraphError(
                f"could not get a Microsoft Graph token for TEAMS_APP_ID ({type(error).__name__}): "
                "check TEAMS_APP_PASSWORD and TEAMS_TENANT_ID"
            ) from None
        if found is None:
            raise GraphError("TEAMS_APP_ID and TEAMS_APP_PASSWORD are needed to install Breather")
        cached[:] = [(str(found), time.monotonic())]
        return cached[0][0]

    return get
