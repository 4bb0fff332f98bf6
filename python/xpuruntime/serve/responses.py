"""JSON responses and the protocol's error body, shared by every route."""
from __future__ import annotations

import json

from starlette.responses import Response

from .protocol import error_body


def json_response(value, status=200):
    return Response(json.dumps(value).encode(), status_code=status,
                    media_type="application/json")


def error_response(message, status):
    return Response(error_body(message), status_code=status, media_type="application/json")
