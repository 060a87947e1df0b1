"""zeep against the gateway in process: a `requests` adapter that answers through
Starlette's TestClient, so a WSDL, its XSDs and SOAP calls need no server."""

from __future__ import annotations

import requests
from requests.adapters import BaseAdapter
from starlette.testclient import TestClient
from zeep import Client, Settings
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport


class InProcessAdapter(BaseAdapter):
    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        answer = self.client.request(
            request.method or "GET",
            request.url or "/",
            content=request.body,
            headers=dict(request.headers),
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers.update(answer.headers)
        response.url = request.url or ""
        response.request = request
        response.encoding = answer.encoding
        return response

    def close(self) -> None:
        pass


def in_process_client(test_client: TestClient, service: str) -> tuple[Client, HistoryPlugin]:
    session = requests.Session()
    session.mount("http://", InProcessAdapter(test_client))
    history = HistoryPlugin()
    client = Client(
        f"http://testserver/ws/{service}?wsdl",
        transport=Transport(session=session),
        settings=Settings(strict=True),
        plugins=[history],
    )
    return client, history
