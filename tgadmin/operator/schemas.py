"""Operators and API tokens in the JSON API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tgadmin.models import ApiToken, Operator
from tgadmin.models.enums import OperatorRole


class OperatorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: OperatorRole
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class AccountRead(BaseModel):
    """The caller's own account."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: OperatorRole
    time_zone: str = Field(description="IANA zone the dashboard shows times in and reads typed times in")


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: str = Field(max_length=64, examples=["America/Sao_Paulo"])


class OperatorInvite(BaseModel):
    email: str = Field(max_length=254, examples=["ana@example.com"])
    role: OperatorRole = OperatorRole.VIEWER


class OperatorRoleChange(BaseModel):
    role: OperatorRole


class InviteRead(BaseModel):
    operator: OperatorRead
    mailed: bool = Field(description="whether the login link went out by e-mail")
    message: str


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["nightly export"])


class ApiTokenRead(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the token's first characters, to tell tokens apart")
    owner_id: int
    owner_email: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="updated at most once a minute")
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken, owner_email: str) -> ApiTokenRead:
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            owner_id=row.operator_id,
            owner_email=owner_email,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="the secret: shown this once, store it now; only its hash is kept")


def operator_read(operator: Operator) -> OperatorRead:
    return OperatorRead.model_validate(operator)
