"""A local stand-in for API Gateway (REST, Lambda proxy integration) serving the template's `Api` events.

It builds the proxy event a REST API would, checks the Cognito authorizer where the template puts one,
calls the handler in-process and turns its answer into HTTP. It logs one line per request: method,
route, status, milliseconds; never a body or a header value (P2, P3). Beside the template's routes it
serves Swagger UI (`docs.py`) and the console (`console.py`), which the deployed API does not.
"""

from __future__ import annotations

import base64
import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from local_stack import docs
from local_stack.cognito import CognitoAuthorizer
from local_stack.console import ConsoleSite
from local_stack.console import serves as console_serves
from local_stack.lambdas import FunctionError, LambdaRuntime

log = logging.getLogger("local_stack.api")


@dataclass(frozen=True)
class Route:
    """One `Api` event of one function."""

    method: str
    path: str  # the template's resource path, e.g. /lines/{line_id}
    function_name: str
    authorized: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


def _json_response(status: int, message: str) -> Response:
    return Response(f'{{"message":"{message}"}}', status=status, content_type="application/json")


class LocalApiGateway:
    """A WSGI application: route, authorize, build the proxy event, invoke, answer."""

    def __init__(
        self,
        routes: Iterable[Route],
        runtime: LambdaRuntime,
        authorizer: CognitoAuthorizer | None,
        stage: str,
        console: ConsoleSite | None = None,
    ) -> None:
        self.routes = list(routes)
        self._compiled = [(route, route.pattern) for route in self.routes]
        self._runtime = runtime
        self._authorizer = authorizer
        self._stage = stage
        self._console = console

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        response, label = self._dispatch(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.1fms", request.method, label, response.status_code, elapsed_ms)
        result: Iterable[bytes] = response(environ, start_response)
        return result

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route, pattern in self._compiled:
            found = pattern.match(path)
            if found is not None and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None, {}

    def _dispatch(self, request: Request) -> tuple[Response, str]:
        if request.method == "GET" and docs.serves(request.path):
            return docs.respond(request), request.path
        if self._console is not None and console_serves(request.path):
            return self._console.respond(request), request.path
        route, params = self._match(request.method, request.path)
        if route is None:
            # What API Gateway answers for a method or path it has no resource for.
            return _json_response(403, "Missing Authentication Token"), "-"
        claims: dict[str, str] | None = None
        if route.authorized:
            if self._authorizer is None:
                return _json_response(500, "No authorizer configured"), route.path
            claims = self._authorizer.claims_for(request.headers.get("Authorization"))
            if claims is None:
                return _json_response(401, "Unauthorized"), route.path
        event = self._proxy_event(request, route, params, claims)
        try:
            result = self._runtime.invoke(route.function_name, event)
        except FunctionError:
            return _json_response(502, "Internal server error"), route.path
        return self._to_response(result), route.path

    def _proxy_event(
        self,
        request: Request,
        route: Route,
        params: dict[str, str],
        claims: dict[str, str] | None,
    ) -> dict[str, Any]:
        raw = request.get_data()
        try:
            body: str | None = raw.decode("utf-8") if raw else None
            is_base64 = False
        except UnicodeDecodeError:
            body, is_base64 = base64.b64encode(raw).decode("ascii"), True
        # As API Gateway does, tell the function how the client reached it.
        forwarded = {
            "X-Forwarded-Proto": request.scheme,
            "X-Forwarded-Port": str(request.host.rsplit(":", 1)[-1]),
        }
        headers = {**dict(request.headers.items()), **forwarded}
        multi_headers: dict[str, list[str]] = {}
        for name, value in [*request.headers.items(), *forwarded.items()]:
            multi_headers.setdefault(name, []).append(value)
        query = {name: values[-1] for name, values in request.args.lists()}
        multi_query = {name: values for name, values in request.args.lists()}
        context: dict[str, Any] = {
            "resourcePath": route.path,
            "httpMethod": request.method,
            "path": f"/{self._stage}{request.path}",
            "stage": self._stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "apiId": "local",
            "accountId": "123456789012",
            "domainName": request.host,
            "identity": {"sourceIp": request.remote_addr, "userAgent": request.user_agent.string},
        }
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    @staticmethod
    def _to_response(result: Any) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            return _json_response(502, "Internal server error")
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        response = Response(payload, status=int(result["statusCode"]))
        response.headers.pop("Content-Type", None)
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.remove(name)
            for value in values:
                response.headers.add(name, str(value))
        return response
