from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, IdMixin


class AnalyticsHourly(IdMixin, Base):
    """One aggregated figure: a metric, sliced by a dimension, for one hour."""

    __tablename__ = "analytics_hourly"
    __table_args__ = (
        UniqueConstraint("metric", "dimension", "hour"),
        # Re-aggregating an hour replaces all of its rows: found by hour, whatever the table's size.
        Index("ix_analytics_hourly_hour", "hour"),
    )

    metric: Mapped[str]
    dimension: Mapped[str] = mapped_column(default="")
    hour: Mapped[datetime]
    value: Mapped[int] = mapped_column(BigInteger, default=0)
