"""Delivery in the JSON API: the purchases stopped on a step of unknown outcome, and the decision."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tgadmin.purchase.service import StepDecision


class StepDecisionIn(BaseModel):
    decision: StepDecision = Field(
        description="arrived: the step is in the buyer's chat (recorded as done); "
        "send_again: it is not (delivery sends it again)"
    )


class StepDecisionRead(BaseModel):
    purchase_id: int
    step: str
    decision: StepDecision
    job_id: str
    message: str


class UnknownStepRead(BaseModel):
    purchase_id: int
    step: str
    since: datetime
