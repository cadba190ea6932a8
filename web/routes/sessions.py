"""The admin's page of open web sessions: who is signed in, from where, since when; end one in a click."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from store.db import session_scope
from store.web_sessions import end_session, live_sessions, session_of
from web.deps import SignedIn, context, csrf_protect, render
from web.permissions import Action, require

router = APIRouter()


@router.get("/sessions")
def session_list(request: Request, user: SignedIn, ended: str = "") -> Response:
    require(user, Action.MANAGE_SESSIONS)
    ctx = context(request)
    mine = getattr(request.state.session, "token", None)
    with session_scope(ctx.engine) as db:
        current = session_of(db, mine) if mine else None
        own = current.id if current is not None else None
        rows = [
            {
                "id": row.id,
                "user": account.name,
                "role": account.role,
                "created": row.created_at,
                "seen": row.last_seen_at,
                "expires": row.expires_at,
                "address": row.address or "—",
                "agent": (row.agent or "—")[:80],
                "mine": row.id == own,
            }
            for row, account in live_sessions(db, ctx.now())
        ]
    flash = f"Đã kết thúc phiên {ended}." if ended.isdigit() else None
    return render(request, "sessions.html", rows=rows, flash=flash)


@router.post("/sessions/{session_id}/end", dependencies=[Depends(csrf_protect)])
def end(request: Request, user: SignedIn, session_id: int) -> Response:
    require(user, Action.MANAGE_SESSIONS)
    with session_scope(context(request).engine) as db:
        end_session(db, session_id=session_id, reason="admin")
    return RedirectResponse(f"/sessions?ended={session_id}", status_code=303)
