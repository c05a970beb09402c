"""`/swagger` on the local stack: Swagger UI (from the swagger-ui-bundle package, no network) over the
committed `openapi.json`, so the API can be browsed and tried with a demo token."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from werkzeug.wrappers import Request, Response

from local_stack.template import REPO_ROOT

OPENAPI_PATH = REPO_ROOT / "openapi.json"
INITIALIZER = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
};
"""


def _assets() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


def serves(path: str) -> bool:
    return path == "/openapi.json" or path == "/swagger" or path.startswith("/swagger/")


def respond(request: Request) -> Response:
    """The UI's page, its assets, or the OpenAPI document; 404 for anything else."""
    if request.path == "/openapi.json":
        return Response(OPENAPI_PATH.read_bytes(), content_type="application/json")
    name = request.path.removeprefix("/swagger").strip("/") or "index.html"
    if name == "swagger-initializer.js":
        return Response(INITIALIZER, content_type="application/javascript")
    if request.path == "/swagger":  # relative asset links resolve against /swagger/
        return Response(status=301, headers={"Location": "/swagger/"})
    asset = (_assets() / name).resolve()
    if _assets().resolve() not in asset.parents or not asset.is_file():
        return Response('{"message":"Not Found"}', status=404, content_type="application/json")
    content_type = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
    return Response(asset.read_bytes(), content_type=content_type)
