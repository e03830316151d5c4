from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId


class MongoId(Base):
    """Which row of ours a document of the previous system (MongoDB) became: reruns of the import
    update that row instead of adding another, and references between documents resolve."""

    __tablename__ = "mongo_ids"

    # Our table's name (`creators`, `purchases`...), not the export file's.
    collection: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The document's ObjectId as 24 hex digits.
    object_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    our_id: Mapped[int] = mapped_column(BigIntId)
    # The import run that last read the document: a second document with the same id in that run
    # is a duplicate (kept in the table, so the check costs no memory however big the export).
    run_id: Mapped[str] = mapped_column(String(32))
