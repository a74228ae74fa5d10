"""``/v1/apikeys``: create (the secret is shown once), list and revoke API keys (admin scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path
from pydantic import BaseModel, Field

from retain.api.security import require, workspace
from retain.services.auth import ApiKey, ApiScope, create_api_key, list_api_keys, revoke_api_key
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(tags=["apikeys"])


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="Names the key in lists and in DELETE /v1/apikeys/{prefix}.")
    scope: ApiScope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(**vars(key))


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=255, description="What the key is for, e.g. 'crm sync'.")
    scope: ApiScope = ApiScope.READ


class NewKeyOut(BaseModel):
    key: ApiKeyOut
    secret: str = Field(description="The whole key: shown this once, only its hash is kept.")


class ApiKeysOut(BaseModel):
    total: int
    items: list[ApiKeyOut]


Admin = Annotated[object, Depends(require(ApiScope.ADMIN))]


@router.post("/v1/apikeys", response_model=NewKeyOut, status_code=201, summary="Create an API key")
def create(new: Annotated[NewKey, Body()], ws: Annotated[Workspace, Depends(workspace)], _: Admin) -> NewKeyOut:
    made = create_api_key(ws, name=new.name, scope=new.scope)
    return NewKeyOut(key=ApiKeyOut.of(made.key), secret=made.secret)


@router.get("/v1/apikeys", response_model=ApiKeysOut, summary="The API keys (never their secrets)")
def keys(ws: Annotated[Workspace, Depends(workspace)], _: Admin) -> ApiKeysOut:
    found = list_api_keys(ws)
    return ApiKeysOut(total=len(found), items=[ApiKeyOut.of(k) for k in found])


@router.delete("/v1/apikeys/{prefix}", response_model=ApiKeysOut, summary="Revoke an API key (401 from then on)")
def revoke(
    prefix: Annotated[str, Path(min_length=1, max_length=255, description="The key's prefix, id or name.")],
    ws: Annotated[Workspace, Depends(workspace)],
    _: Admin,
) -> ApiKeysOut:
    revoked = revoke_api_key(ws, prefix)
    return ApiKeysOut(total=len(revoked), items=[ApiKeyOut.of(k) for k in revoked])
