"""Saved sessions: the name a session is saved under, the owner key that guards an entry,
writing an entry, and the list, open (as a new live session, or reopening a lost one
under its id) and delete routes of ``/api/saved``."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field, field_validator

from ..export import ExportDoc
from ..guard import peer_of
from ..names import normalise
from ..settings import CommandError
from ..store import (
    OWNER_KEY_CHARS,
    NameConfusable,
    NameTaken,
    NotOwner,
    new_owner_key,
    owner_digest,
)
from .common import (
    R400,
    R403,
    R404,
    R503,
    Created,
    Problem,
    Token,
    created,
    from_command,
    manager,
    problem,
)

router = APIRouter(tags=["saved"])

SavedName = Annotated[
    str, Path(min_length=1, max_length=100, description="Name the session was saved under")
]
OwnerKey = Annotated[
    str | None,
    Header(
        alias="X-Buddyscope-Owner",
        description="The owner key of saved sessions (the save answer's owner_key)",
    ),
]


class SaveRequest(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\w .,:()+-]+$",
        description="Stored normalised (NFKC, trimmed); a name that looks like another saved "
        "name (backend/names.py) is refused with 409",
    )
    replace: bool = Field(
        default=False, description="Replace a saved session of that name (else 409)"
    )

    @field_validator("name")
    @classmethod
    def _addressable(cls, name: str) -> str:
        # The page's rule too (frontend/lib/saved.js nameProblem): a browser resolves "."
        # and ".." in /api/saved/{name} as path segments, so no address could open them.
        name = normalise(name)
        if name in (".", ".."):
            raise ValueError(f"“{name}” cannot be opened from an address: add a letter.")
        if not name:
            raise ValueError("a name needs more than white space")
        return name


class SavedOut(BaseModel):
    name: str
    saved_at: float
    scenario: str
    steps: int


class SaveAnswer(SavedOut):
    owner_key: str = Field(
        description="The entry's owner key, shown only here: replacing or deleting the entry "
        "(and, on a --shared server, listing and opening it) needs it in X-Buddyscope-Owner. "
        "Saving with an X-Buddyscope-Owner key of your own keeps all your entries under it"
    )


class ReopenRequest(BaseModel):
    session: str = Field(
        min_length=1,
        max_length=64,
        description="The id of a session this server lost (a restart): the copy opens under "
        "that id, so its followers find it again; needs that session's control token",
    )


_OWNER_KEY = re.compile(rf"[A-Za-z0-9_-]{{{OWNER_KEY_CHARS},64}}")


def _owner_key(given: str | None) -> str:
    """The caller's owner key, or a new one."""
    if given is None:
        return new_owner_key()
    if _OWNER_KEY.fullmatch(given) is None:
        raise problem(
            403,
            f"X-Buddyscope-Owner is not an owner key ({OWNER_KEY_CHARS} to 64 letters, digits, "
            "- and _, as a save answers with): send one you were given, or none for a new one",
        )
    return given


def _not_owner(name: str, what: str) -> HTTPException:
    return problem(
        403,
        f"the saved session {name!r} belongs to whoever saved it: {what} needs its owner "
        "key (X-Buddyscope-Owner, the owner_key its save answered with)",
    )


def save(
    store: Any,
    name: str,
    scenario: str,
    steps: int,
    doc: ExportDoc,
    replace: bool,
    owner: str | None,
) -> SaveAnswer:
    """Write ``doc`` as the saved session ``name`` under the caller's owner key (a new one
    without ``owner``); a taken or look-alike name, or another owner's entry, is refused."""
    key = _owner_key(owner)
    try:
        info = store.save(
            name, scenario, steps, doc.model_dump_json(), replace=replace, owner=owner_digest(key)
        )
    except NameTaken:
        raise problem(
            409,
            f"a saved session named {name!r} exists already; save again with "
            '"replace": true to replace it, or choose another name',
        ) from None
    except NameConfusable as exc:
        raise problem(
            409,
            f"{name!r} looks like the saved session {exc.args[0]!r} (the same letters to a "
            "reader); choose a name that differs in more than look-alike letters, case or "
            "spaces",
        ) from None
    except NotOwner:
        raise _not_owner(name, "replacing it") from None
    return SaveAnswer(**vars(info), owner_key=key)


def _shared(request: Request) -> bool:
    shared: bool = request.app.state.buddyscope.settings.shared
    return shared


def _digest(owner: str | None) -> str | None:
    return owner_digest(owner) if owner is not None else None


@router.get(
    "/saved",
    summary="Saved sessions (on a --shared server: only those of X-Buddyscope-Owner)",
)
async def list_saved(request: Request, owner: OwnerKey = None) -> list[SavedOut]:
    store = request.app.state.buddyscope.store
    saved = await asyncio.to_thread(
        lambda: store.list(_digest(owner), check_owner=_shared(request))
    )
    return [SavedOut(**vars(s)) for s in saved]


@router.post(
    "/saved/{name}/open",
    status_code=201,
    summary="Open a saved session as a new live session",
    description='With a body `{"session": ID}` and ID\'s control token in '
    "X-Buddyscope-Token, the copy reopens session ID after a server restart under that "
    "same id (its followers find it again); if ID is live by now, the answer is that "
    "session as it is.",
    responses={**R403, **R404, **R400, **R503},
)
async def open_saved(
    request: Request,
    name: SavedName,
    body: Annotated[ReopenRequest | None, Body()] = None,
    token: Token = None,
    owner: OwnerKey = None,
) -> Created:
    sessions = manager(request)
    reopen = body.session if body is not None else None
    if reopen is not None and not sessions.token_valid(reopen, token):
        raise problem(403, f"reopening session {reopen!r} needs its control token")
    store = request.app.state.buddyscope.store
    try:
        text = await asyncio.to_thread(
            lambda: store.load(name, _digest(owner), check_owner=_shared(request))
        )
    except NotOwner:
        raise _not_owner(name, "on this shared server, opening it") from None
    if text is None:
        raise problem(404, f"no saved session named {name!r}")
    doc = ExportDoc.model_validate_json(text)
    try:
        session = await sessions.import_doc(doc, name=name, reopen=reopen, peer=peer_of(request))
    except CommandError as exc:
        raise from_command(exc) from None
    return await created(session)


@router.delete(
    "/saved/{name}",
    status_code=204,
    summary="Forget a saved session",
    responses={
        403: {"model": Problem, "description": "Not the owner key of the entry"},
        404: {"model": Problem, "description": "No such saved session"},
    },
)
async def delete_saved(request: Request, name: SavedName, owner: OwnerKey = None) -> Response:
    store = request.app.state.buddyscope.store
    try:
        deleted = await asyncio.to_thread(store.delete, name, _digest(owner))
    except NotOwner:
        raise _not_owner(name, "deleting it") from None
    if not deleted:
        raise problem(404, f"no saved session named {name!r}")
    return Response(status_code=204)
