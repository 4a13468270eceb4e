"""The REST part, one router a concern, all under ``/api``: what a session can run
(``catalog``), live sessions created, listed, read and deleted (``sessions``), a session
written out: export, save, scenario file (``saving``), its node as the kernel shows it
(``nodeinfo``), and the saved sessions (``saved``); ``common`` holds what they share.  (The
side-by-side comparison is ``backend/comparison.py``, the practice exercises
``backend/practice.py``.)

Reading a session takes its lock (model work runs in worker threads), so a request never
sees a half-applied step.  Controlling a session (delete, save) needs its control token
in the ``X-Buddyscope-Token`` header; watching (get, export, buddyinfo) needs only the
id.  Every error is ``{"detail": "a plain sentence"}`` with a documented status code.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..badinput import refuse_bad_json
from . import catalog, nodeinfo, saved, saving, sessions

# Every JSON body is checked for what no field means (lone surrogates, NaN, huge
# integers, deep nesting) before a route reads it.
router = APIRouter(prefix="/api", tags=["sessions"], dependencies=[Depends(refuse_bad_json)])
# The OpenAPI document lists the paths in this order.
for part in (catalog, sessions, saving, nodeinfo, saved):
    router.include_router(part.router)
