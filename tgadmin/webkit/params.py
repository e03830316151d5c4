"""Integers in paths and queries, bounded to what the database holds (a signed 64-bit integer), and
the free text a filter compares with stored text.

An id or an offset past that is a malformed field like any other (422, in the one error shape), not
an overflow deep inside the database driver (a 500). Every route takes its ids and offsets from here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

INT64_MAX = 2**63 - 1
# The largest page size any list offers; page numbers are bounded so that the offset still fits.
MAX_PER_PAGE = 1000

RowId = Annotated[int, Path(ge=1, le=INT64_MAX, description="the row's id")]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="how many to skip")]
PageNumber = Annotated[int, Query(ge=1, le=INT64_MAX // MAX_PER_PAGE, description="1 is the first page")]

# No control characters in a filter's text: PostgreSQL refuses NUL in text (a 500 deep in the
# driver otherwise), and none belongs in a name, an action or an id anyway.
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"
FilterText = Annotated[str, Query(max_length=200, pattern=PLAIN_TEXT, description="no control characters")]
