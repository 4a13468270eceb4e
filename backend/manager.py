"""All live sessions of a server: creating, reopening after a restart, importing,
evicting to make room, and the control tokens that grant control."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from functools import partial
from typing import Final

from allocator_model import ModelError

from .configure import plan_from_config
from .export import ExportDoc, decode_log, unpack_texts
from .session import Session
from .settings import EVENT_KINDS, CommandError, Settings, model_error
from .sources import Plan, SessionConfig
from .timeline import Branch, View, build_branch, open_branch

#: Characters of a control token: 24 bytes of the HMAC (192 bits), base64url.
TOKEN_CHARS: Final = 32


def control_token(key: bytes, sid: str) -> str:
    """The control token of session ``sid``: HMAC-SHA256 of the id under the server's
    key (store.server_key), truncated to 192 bits, base64url.  Only the key's holder can
    make one, so it cannot be guessed from the id; and since it is derived, not stored,
    a server restarted with the same key recognises the tokens it issued before."""
    mac = hmac.new(key, b"buddyscope control token\0" + sid.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()[:TOKEN_CHARS]


class SessionManager:
    """All live sessions of a server, with the limits on them."""

    def __init__(self, settings: Settings, key: bytes | None = None) -> None:
        self.settings = settings
        self._key = key if key is not None else secrets.token_bytes(32)
        self.sessions: dict[str, Session] = {}
        self._templates: dict[str, tuple[Branch, View]] = {}
        self._create_lock = asyncio.Lock()

    def get(self, sid: str) -> Session | None:
        return self.sessions.get(sid)

    def token_for(self, sid: str) -> str:
        return control_token(self._key, sid)

    def token_valid(self, sid: str, token: str | None) -> bool:
        """Whether ``token`` controls the session ``sid``, live or not (a session lost in
        a restart is reopened under its id by whoever holds its token)."""
        return token is not None and hmac.compare_digest(
            token.encode(), self.token_for(sid).encode()
        )

    def _fits(self, plan: Plan, leaving: Session | None = None) -> None:
        """Refuse ``plan`` if the live sessions' pages (but ``leaving``'s) and its own
        would be over the server's total."""
        pages = sum(n for _, n in plan.source.sizes())
        used = sum(
            sum(n for _, n in s.plan.source.sizes())
            for s in self.sessions.values()
            if s is not leaving
        )
        if used + pages > self.settings.max_pages_total:
            raise CommandError(
                "limit",
                f"this server's sessions model {used} pages and this one would add {pages}; "
                f"it allows {self.settings.max_pages_total} in all: try a smaller "
                "configuration or later",
                http_status=503,
            )

    def _register(self, session: Session) -> None:
        session.fits = partial(self._fits, leaving=session)
        self.sessions[session.id] = session

    def _new_id(self, reopen: str | None) -> str:
        return reopen if reopen is not None else secrets.token_urlsafe(12)

    def _evict_idle(self) -> None:
        now = time.monotonic()
        for sid, session in list(self.sessions.items()):
            if not session.clients and now - session.last_active > self.settings.session_idle_s:
                session._stop_play()
                del self.sessions[sid]

    def _room(self, peer: str) -> None:
        """Make room for a session of ``peer``, or refuse (503).  Only a session nobody
        watches, that does not play and was not saved can go: first the longest-idle of
        ``peer``'s own when it runs its quota; when the server is full, one of its own
        or one nobody ever controlled, so one client cannot push out others' work."""
        self._evict_idle()
        s = self.settings

        def idle(session: Session) -> bool:
            return not session.clients and not session.playing and not session.name

        own = [x for x in self.sessions.values() if x.peer == peer]
        if len(own) >= s.max_sessions_per_client:
            victims = [x for x in own if idle(x)]
            if not victims:
                raise CommandError(
                    "limit",
                    f"this client already runs {len(own)} sessions (the most one address may), "
                    "all in use; close one or try again later",
                    http_status=503,
                )
            self._evict(min(victims, key=lambda x: x.last_active))
        if len(self.sessions) < s.max_sessions:
            return
        victims = [
            x for x in self.sessions.values() if idle(x) and (x.peer == peer or not x.controlled)
        ]
        if victims:
            self._evict(min(victims, key=lambda x: (x.peer != peer, x.last_active)))
            return
        raise CommandError(
            "limit",
            f"this server already runs {s.max_sessions} sessions, all in use; "
            "try again later or follow an existing session",
            http_status=503,
        )

    def _evict(self, session: Session) -> None:
        session._stop_play()
        del self.sessions[session.id]

    def _build_view(self, plan: Plan) -> View:
        """The initial view of a plan; the start of each configuration is built once."""
        s = self.settings
        key = plan.config.model_dump_json()
        template = self._templates.get(key)
        if template is None:
            view = open_branch(0, plan, s.checkpoint, s.max_timeline_steps)
            template = (view.branch, view.clone())
            if len(self._templates) >= 8:
                self._templates.pop(next(iter(self._templates)))
            self._templates[key] = template
        branch, view = template
        copy_branch = branch.fork(0, len(branch), "start")
        copy_branch.parent = None
        copy_branch.fork_step = 0
        clone = view.clone()
        clone.branch = copy_branch
        return clone

    async def create(
        self,
        config: SessionConfig | None = None,
        name: str = "",
        reopen: str | None = None,
        peer: str = "",
    ) -> Session:
        """A new session running ``config``.  ``reopen``: the id of a session this server
        no longer has (lost in a restart), to reopen under that id (the caller has checked
        its token); if a session of that id is live again by now, it is the answer."""
        config = config or SessionConfig()
        async with self._create_lock:
            if reopen is not None and reopen in self.sessions:
                return self.sessions[reopen]
            plan = await asyncio.to_thread(plan_from_config, config, self.settings)
            self._fits(plan)
            try:
                view = await asyncio.to_thread(self._build_view, plan)
            except (ModelError, ValueError, KeyError) as exc:
                raise model_error(exc) from None
            self._room(peer)  # only now: a refused configuration evicts nobody
            sid = self._new_id(reopen)
            session = Session(sid, self.token_for(sid), self.settings, view, name)
            session.peer = peer
            self._register(session)
            return session

    def _views_from_doc(self, doc: ExportDoc) -> tuple[dict[int, Branch], View]:
        s = self.settings
        if len(doc.branches) > s.max_branches:
            raise CommandError(
                "limit", f"{len(doc.branches)} branches; this server keeps {s.max_branches}"
            )
        branches: dict[int, Branch] = {}
        for eb in doc.branches:
            if eb.id in branches:
                raise CommandError("invalid_field", f"branch {eb.id} appears twice")
            try:
                config = unpack_texts(eb.config, doc.files)
            except ValueError as exc:
                raise CommandError("invalid_field", f"branch {eb.id}: {exc}") from None
            plan = plan_from_config(config, s)
            self._fits(plan)
            try:
                log = decode_log(eb.log, s.max_timeline_steps)
            except ValueError as exc:
                raise CommandError("limit", f"branch {eb.id}: {exc}") from None
            view = build_branch(eb.id, plan, log, s.checkpoint, eb.reason)
            view.branch.parent = eb.parent
            view.branch.fork_step = eb.fork_step
            branches[eb.id] = view.branch
        current = branches.get(doc.current.branch)
        if current is None:
            raise CommandError("invalid_field", f"current branch {doc.current.branch} is missing")
        if doc.current.step > len(current):
            raise CommandError(
                "out_of_range",
                f"current step {doc.current.step} is beyond branch {current.id} ({len(current)})",
            )
        return branches, View.at(current, doc.current.step)

    async def import_doc(
        self, doc: ExportDoc, name: str | None = None, reopen: str | None = None, peer: str = ""
    ) -> Session:
        """A new live session from an export document (every branch is replayed);
        ``reopen`` as for ``create``."""
        for kind in doc.breakpoints:
            if kind not in EVENT_KINDS:
                raise CommandError("out_of_range", f"unknown event kind {kind!r}")
        if not 0 < doc.speed <= self.settings.max_speed:
            raise CommandError("out_of_range", f"speed {doc.speed:g} is out of range")
        async with self._create_lock:
            if reopen is not None and reopen in self.sessions:
                return self.sessions[reopen]
            try:
                branches, view = await asyncio.to_thread(self._views_from_doc, doc)
            except (ModelError, ValueError, KeyError) as exc:
                raise model_error(exc) from None
            self._room(peer)  # only now: a refused document evicts nobody
            sid = self._new_id(reopen)
            session = Session(
                sid,
                self.token_for(sid),
                self.settings,
                view,
                doc.name if name is None else name,
            )
            session.branches = branches
            session.next_branch = max(branches) + 1
            session.speed = doc.speed
            session.breakpoints = frozenset(doc.breakpoints)
            session.peer = peer
            self._register(session)
            return session

    async def remove(self, sid: str) -> bool:
        session = self.sessions.pop(sid, None)
        if session is None:
            return False
        session.deleted = True
        await session.shutdown()
        for client in session.clients:
            client.closed = True
            client.wake.set()
        return True

    async def shutdown(self) -> None:
        for session in self.sessions.values():
            await session.shutdown()
        self.sessions.clear()

    async def reap_forever(self, interval: float = 30.0) -> None:
        while True:
            await asyncio.sleep(interval)
            async with self._create_lock:
                self._evict_idle()
