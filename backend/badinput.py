"""Values no request may carry, found at the edge before anything uses them.

JSON as Python reads it can hold what no field of buddyscope means and what breaks
later, far from the request: a lone surrogate (``"\\ud800"`` is valid JSON but not
Unicode; it cannot be encoded as UTF-8, so every snapshot, answer and log line that
would carry it fails), ``NaN`` and ``Infinity`` (not JSON at all), integers beyond 64
bits (``OverflowError`` deep in the model) and nesting deep enough to exhaust Python's
stack.  :func:`bad_value` finds the first of them in a parsed document, without
recursion; the REST router (:func:`refuse_bad_json`), the websocket and the workload
file loader refuse it with one sentence that names where it is, never the value.

:func:`validation_problem` is the 422 of a request FastAPI could not validate: the
location and the message of each problem, never the input, and one log line.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

log = logging.getLogger("buddyscope.input")

#: Deepest nesting of lists and objects a request or file may have (a workload nests
#: ``repeat`` inside ``repeat``; nothing real is near this).
MAX_DEPTH: Final = 64
#: Integers are at most 64-bit: no field means more, and the model's arrays cannot hold it.
INT_LIMIT: Final = 1 << 63

Path = tuple[str | int, ...]


def _plain(part: Any) -> bool:
    """A key that is a plain name (safe to show: it cannot carry anything raw)."""
    return isinstance(part, str) and part.isidentifier() and len(part) <= 40


def shown(path: Path) -> str:
    """A path for a sentence: keys only when they are plain names (never raw input)."""
    parts = [str(p) if isinstance(p, int) or _plain(p) else "…" for p in path[:8]]
    return ".".join(parts) + (".…" if len(path) > 8 else "") or "the document"


def _bad_str(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


#: What :func:`bad_value` says of a document nested too deep (its path is cut there).
TOO_DEEP: Final = f"nested deeper than {MAX_DEPTH} levels"


def bad_value(doc: Any) -> tuple[Path, str] | None:
    """Where ``doc`` (parsed JSON) holds something no request may carry, and what:
    ``(path, sentence)``; ``None`` if nothing.  Nesting deeper than :data:`MAX_DEPTH`
    is reported before anything else (so a caller may walk any other answer's document
    recursively); otherwise the first problem in document order."""
    first: tuple[Path, str] | None = None
    stack: list[tuple[Path, Any]] = [((), doc)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            return path[:MAX_DEPTH], TOO_DEEP
        what: str | None = None
        if isinstance(value, str):
            if _bad_str(value):
                what = "a lone surrogate (half of a UTF-16 pair), which is not Unicode text"
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -INT_LIMIT <= value < INT_LIMIT:
                what = "an integer beyond 64 bits"
        elif isinstance(value, float):
            if not math.isfinite(value):
                what = "NaN or Infinity, which JSON does not have"
        elif isinstance(value, dict):
            if any(isinstance(k, str) and _bad_str(k) for k in value):
                what = "a key with a lone surrogate (half of a UTF-16 pair)"
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
        if what is not None and first is None:
            first = path, what
    return first


def bad_value_sentence(doc: Any) -> str | None:
    """:func:`bad_value` as one sentence (``None`` if nothing)."""
    found = bad_value(doc)
    if found is None:
        return None
    path, what = found
    return f"{shown(path)}: {what}"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def loads(text: str) -> Any:
    """``json.loads`` that refuses ``NaN``/``Infinity`` and stack-deep nesting with a
    ``ValueError`` (a ``json.JSONDecodeError`` for what the parser itself refuses)."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


_JSON_TYPES: Final = ("application/json", "+json")


async def refuse_bad_json(request: Request) -> None:
    """A router dependency: a JSON body with a lone surrogate, ``NaN``, a huge integer
    or deep nesting is refused with 422 before any route reads it (a body that is not
    JSON at all is left to the route's own validation)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method not in ("POST", "PUT", "PATCH") or not kind.endswith(_JSON_TYPES):
        return
    body = await request.body()
    if not body:
        return
    try:
        doc = loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise _refusal(request, "the body is not UTF-8 text") from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            return  # not JSON: FastAPI's own 422 says so
        raise _refusal(request, f"the body: {exc}") from None
    sentence = bad_value_sentence(doc)
    if sentence is not None:
        raise _refusal(request, f"the body at {sentence}")


def _refusal(request: Request, sentence: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": sentence, "type": "bad_value"}])


def _clean_loc(loc: Any) -> list[str | int]:
    return [
        p if (isinstance(p, int) and not isinstance(p, bool)) or _plain(p) else "…"
        for p in (loc if isinstance(loc, list | tuple) else ())
    ]


async def validation_problem(request: Request, exc: Exception) -> JSONResponse:
    """422 for a request that did not validate: each problem's location, message and
    type, never its input (the default answer echoes it, lone surrogates included), and
    one log line."""
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": _clean_loc(err.get("loc")),
            "msg": str(err.get("msg", "invalid")).encode("utf-8", "backslashreplace").decode(),
            "type": str(err.get("type", "invalid")),
        }
        for err in exc.errors()
    ]
    first = detail[0]["msg"] if detail else "invalid"
    log.info(
        "refused %s %s: 422, %d problem(s), first: %.120s",
        request.method,
        request.url.path,
        len(detail),
        first,
    )
    return JSONResponse({"detail": detail}, status_code=422)
