"""API authentication: bearer tokens for scripts and other systems."""

from fastapi import APIRouter, Request

from app.accounts import service as accounts
from models.users import TokenRequest, TokenResponse, UserPublic
from routes.http.deps import ApiUser, bearer_token
from routes.http.openapi import errors
from routes.http.session import SessionDep

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenResponse, responses=errors(401, 429))
def create_token(body: TokenRequest, request: Request, session: SessionDep) -> TokenResponse:
    """Exchange username and password for a bearer token (stored hashed, with expiry)."""
    s = request.app.state.settings
    user = accounts.authenticate(
        session=session,
        username=body.username,
        password=body.password,
        address=request.client.host if request.client else "?",
        settings=s,
    )
    raw, tok = accounts.issue_token(session=session, user=user, kind="api", days=s.api_token_days)
    return TokenResponse(access_token=raw, expires_at=tok.expires_at)


@router.delete("/auth/token", status_code=204)
def revoke_token(user: ApiUser, request: Request, session: SessionDep) -> None:
    """Revoke the bearer token of this request."""
    raw = bearer_token(request)
    if raw:
        accounts.revoke_token(session=session, raw=raw)


@router.get("/auth/me", response_model=UserPublic)
def me(user: ApiUser) -> UserPublic:
    """Who the token belongs to."""
    return UserPublic.model_validate(user, from_attributes=True)
