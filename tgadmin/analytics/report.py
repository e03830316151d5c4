"""The analytics page's figures over a chosen range (the last day, week or month), read back from the
hourly rows: time series for the charts and breakdown tables (revenue by currency and method, top
creators and groups, the conversion funnel per creator and per source), each one exportable as CSV.

Ranges end with the last full hour. A day is its 24 hours one by one; a week and a month are days of
the operators' calendar (Brasília), today so far included. Figures are sums of the hourly rows,
except active subscriptions, a count at a moment: a bucket shows its last hour's."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.analytics import repository
from tgadmin.analytics.service import HOUR, TOTAL, Metric, Point, hour_start, previous_hour, series
from tgadmin.clock import utcnow

# Sums of these metrics feed the tables; what the charts draw is read as series.
SUMMED = (
    Metric.REVENUE_CENTS,
    Metric.PURCHASES_CREATED,
    Metric.PURCHASES_PAID,
    Metric.STARTS,
    Metric.NEW_BUYERS,
    Metric.MESSAGES_SENT,
    Metric.MESSAGES_DELETED,
    Metric.MESSAGES_FAILED,
    Metric.REFUNDS,
    Metric.REFUNDED_CENTS,
    Metric.CHURN,
)
CHARTED = (
    Metric.PURCHASES_CREATED,
    Metric.PURCHASES_PAID,
    Metric.STARTS,
    Metric.NEW_BUYERS,
    Metric.MESSAGES_SENT,
    Metric.MESSAGES_DELETED,
    Metric.MESSAGES_FAILED,
    Metric.REFUNDS,
    Metric.CHURN,
)
TOP = 20  # rows of the "top" tables (the CSV has them all)
# A group's deep links carry `g<group id>` (creator.jobs.group_source).
GROUP_SOURCE = "g"
CAMPAIGN_SOURCE = "c"  # a campaign's deep links carry `c<campaign id>` (campaign.service.campaign_source)


class Span(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


DAYS = {Span.WEEK: 7, Span.MONTH: 30}


class Kind(StrEnum):
    """How a column's values read: plain text, a count, cents of a currency, a percentage."""

    TEXT = "text"
    COUNT = "count"
    BRL = "BRL"
    XTR = "XTR"
    PERCENT = "percent"


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # English; the page translates it
    kind: Kind = Kind.COUNT


Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]]

    def top(self, n: int = TOP) -> list[list[Cell]]:
        return self.rows[:n]

    def records(self) -> list[dict[str, Cell]]:
        return [{c.key: v for c, v in zip(self.columns, row, strict=True)} for row in self.rows]

    def csv(self) -> str:
        """The whole table as CSV: money in units of its currency (29.90), percentages as numbers."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([_csv_header(c) for c in self.columns])
        for row in self.rows:
            writer.writerow([_csv_cell(c, v) for c, v in zip(self.columns, row, strict=True)])
        return out.getvalue()


def _csv_header(column: Column) -> str:
    return f"{column.key}_{column.kind.lower()}" if column.kind in (Kind.BRL, Kind.XTR) else column.key


def _csv_cell(column: Column, value: Cell) -> Cell:
    if value is None:
        return ""
    if column.kind is Kind.BRL and isinstance(value, int):
        return f"{value / 100:.2f}"
    if column.kind is Kind.PERCENT and isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # A spreadsheet would run a source tag or a title that starts like a formula.
        return "'" + value
    return value


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime  # exclusive
    label: str


@dataclass(frozen=True)
class Window:
    span: Span
    start: datetime
    end: datetime  # exclusive: the end of the last full hour
    buckets: list[Bucket]


def window(span: Span, tz: tzinfo, now: datetime | None = None) -> Window:
    """The hours a range covers, and the buckets its charts draw (days and labels of the zone `tz`,
    the operator's)."""
    last = previous_hour(now or utcnow())
    end = last + HOUR
    if span is Span.DAY:
        hours = [last - (23 - i) * HOUR for i in range(24)]
        buckets = [Bucket(h, h + HOUR, f"{h.astimezone(tz):%d/%m %Hh}") for h in hours]
        return Window(span, hours[0], end, buckets)
    today = last.astimezone(tz).date()
    days = [today - timedelta(days=DAYS[span] - 1 - i) for i in range(DAYS[span])]
    buckets = []
    for day in days:
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        buckets.append(
            Bucket(hour_start(start), min(hour_start(start + timedelta(days=1)), end), f"{day:%d/%m}")
        )
    return Window(span, buckets[0].start, end, buckets)


def _bucketed(points: Sequence[Point], buckets: Sequence[Bucket], *, last_only: bool = False) -> list[int]:
    values = []
    for bucket in buckets:
        inside = [p.value for p in points if bucket.start <= p.hour < bucket.end]
        values.append((inside[-1] if inside else 0) if last_only else sum(inside))
    return values


async def charts(session: AsyncSession, w: Window) -> dict[str, list[object]]:
    """The time series the page draws: one value per bucket."""
    last_hour = w.end - HOUR
    out: dict[str, list[object]] = {"labels": [b.label for b in w.buckets]}
    for metric in CHARTED:
        points = (await series(session, metric, w.start, last_hour))[TOTAL]
        out[metric.value] = list(_bucketed(points, w.buckets))
    revenue = await series(
        session, Metric.REVENUE_CENTS, w.start, last_hour, ("currency=BRL", "currency=XTR")
    )
    out["revenue_brl"] = [round(v / 100, 2) for v in _bucketed(revenue["currency=BRL"], w.buckets)]
    out["revenue_xtr"] = list(_bucketed(revenue["currency=XTR"], w.buckets))
    active = (await series(session, Metric.ACTIVE_SUBSCRIPTIONS, w.start, last_hour))[TOTAL]
    out[Metric.ACTIVE_SUBSCRIPTIONS.value] = list(_bucketed(active, w.buckets, last_only=True))
    return out


@dataclass
class Sums:
    """(metric, dimension) -> the range's sum, read as `sums.of(metric, "creator", "7")`."""

    values: dict[tuple[str, str], int] = field(default_factory=dict)

    def of(self, metric: Metric, *pairs: tuple[str, object]) -> int:
        key = ",".join(f"{k}={v}" for k, v in pairs)
        return self.values.get((metric.value, key), 0)

    def keys(self, metric: Metric, key: str) -> set[str]:
        """The values of one dimension key found for a metric: `keys(STARTS, "source")`."""
        prefix = f"{key}="
        return {
            d[len(prefix) :]
            for m, d in self.values
            if m == metric.value and d.startswith(prefix) and "," not in d
        }

    def money_keys(self, key: str) -> set[str]:
        """Values of `key` that have revenue: `currency=X,<key>=<value>` rows."""
        found = set()
        for m, d in self.values:
            parts = dict(p.split("=", 1) for p in d.split(",") if "=" in p)
            if m == Metric.REVENUE_CENTS.value and key in parts and len(parts) == 2:
                found.add(parts[key])
        return found


async def sums(session: AsyncSession, w: Window) -> Sums:
    rows = await repository.sums(session, [m.value for m in SUMMED], w.start, w.end)
    return Sums({(m, d): v for m, d, v in rows})


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _money(s: Sums, *pairs: tuple[str, object]) -> tuple[int, int]:
    return (
        s.of(Metric.REVENUE_CENTS, ("currency", "BRL"), *pairs),
        s.of(Metric.REVENUE_CENTS, ("currency", "XTR"), *pairs),
    )


def _by_revenue(rows: Iterable[list[Cell]], money_at: int, then_at: int) -> list[list[Cell]]:
    def key(row: list[Cell]) -> tuple[int, int, int]:
        brl, xtr, then = row[money_at], row[money_at + 1], row[then_at]
        return (-int(brl or 0), -int(xtr or 0), -int(then or 0))

    return sorted(rows, key=key)


FUNNEL_COLUMNS = [
    Column("starts", "Deep-link starts"),
    Column("checkouts", "Checkouts started"),
    Column("paid", "Purchases paid"),
    Column("conversion", "Starts to paid", Kind.PERCENT),
]


def _funnel_cells(s: Sums, pair: tuple[str, object]) -> list[Cell]:
    starts = s.of(Metric.STARTS, pair)
    paid = s.of(Metric.PURCHASES_PAID, pair)
    return [starts, s.of(Metric.PURCHASES_CREATED, pair), paid, _rate(paid, starts)]


async def creators_table(session: AsyncSession, s: Sums) -> Table:
    ids = {
        int(v)
        for v in s.keys(Metric.STARTS, "creator")
        | s.keys(Metric.PURCHASES_CREATED, "creator")
        | s.money_keys("creator")
        if v.isdigit()
    }
    names = await repository.creator_names(session, ids)
    rows: list[list[Cell]] = []
    for cid in ids:
        pair = ("creator", cid)
        rows.append(
            [
                cid,
                names.get(cid, f"#{cid}"),
                *_money(s, pair),
                *_funnel_cells(s, pair),
                s.of(Metric.CHURN, pair),
            ]
        )
    columns = [
        Column("creator_id", "Id"),
        Column("creator", "Creator", Kind.TEXT),
        Column("revenue", "Revenue", Kind.BRL),
        Column("stars", "Stars", Kind.XTR),
        *FUNNEL_COLUMNS,
        Column("churn", "Churn"),
    ]
    return Table("creators", "Top creators by revenue", columns, _by_revenue(rows, 2, 5))


async def groups_table(session: AsyncSession, s: Sums) -> Table:
    """Messages per group, and what the group's deep links brought in (source `g<id>`)."""
    ids = {
        int(v)
        for metric in (Metric.MESSAGES_SENT, Metric.MESSAGES_DELETED, Metric.MESSAGES_FAILED)
        for v in s.keys(metric, "group")
        if v.isdigit()
    }
    for tag in s.money_keys("source") | s.keys(Metric.STARTS, "source"):
        if tag.startswith(GROUP_SOURCE) and tag[1:].isdigit():
            ids.add(int(tag[1:]))
    titles = await repository.group_titles(session, ids)
    rows: list[list[Cell]] = []
    for gid in ids:
        source = ("source", f"{GROUP_SOURCE}{gid}")
        group = ("group", gid)
        rows.append(
            [
                gid,
                titles.get(gid, f"#{gid}"),
                *_money(s, source),
                s.of(Metric.STARTS, source),
                s.of(Metric.PURCHASES_PAID, source),
                s.of(Metric.MESSAGES_SENT, group),
                s.of(Metric.MESSAGES_DELETED, group),
                s.of(Metric.MESSAGES_FAILED, group),
            ]
        )
    columns = [
        Column("group_id", "Id"),
        Column("group", "Group", Kind.TEXT),
        Column("revenue", "Revenue", Kind.BRL),
        Column("stars", "Stars", Kind.XTR),
        Column("starts", "Deep-link starts"),
        Column("paid", "Purchases paid"),
        Column("sent", "Messages sent"),
        Column("deleted", "Messages deleted"),
        Column("failed", "Messages failed"),
    ]
    return Table("groups", "Top groups by revenue", columns, _by_revenue(rows, 2, 6))


async def sources_table(session: AsyncSession, s: Sums) -> Table:
    """Per link source: a group's (`g<id>`), a campaign's (`c<id>`, campaign.service.campaign_source)
    or any other tag, named by what it stands for."""
    names = (
        s.keys(Metric.STARTS, "source") | s.keys(Metric.PURCHASES_CREATED, "source") | s.money_keys("source")
    )
    groups = await repository.group_titles(session, _tagged(names, GROUP_SOURCE))
    campaigns = await repository.campaign_names(session, _tagged(names, CAMPAIGN_SOURCE))
    rows: list[list[Cell]] = []
    for name in names:
        pair = ("source", name)
        number = int(name[1:]) if name[1:].isdigit() else 0
        named = {GROUP_SOURCE: groups, CAMPAIGN_SOURCE: campaigns}.get(name[:1], {})
        shown = named.get(number, name)
        cells = [*_funnel_cells(s, pair), *_money(s, pair), s.of(Metric.NEW_BUYERS, pair)]
        rows.append([name, shown, *cells])
    columns = [
        Column("source", "Source", Kind.TEXT),
        Column("name", "Group or campaign", Kind.TEXT),
        *FUNNEL_COLUMNS,
        Column("revenue", "Revenue", Kind.BRL),
        Column("stars", "Stars", Kind.XTR),
        Column("new_buyers", "New buyers"),
    ]
    return Table("sources", "Funnel per source (group or campaign)", columns, _by_revenue(rows, 6, 2))


def _tagged(names: Iterable[str], prefix: str) -> set[int]:
    return {int(n[1:]) for n in names if n.startswith(prefix) and n[1:].isdigit()}


def funnel_table(s: Sums) -> Table:
    starts = s.of(Metric.STARTS)
    steps = [
        ("Deep-link starts", starts),
        ("Checkouts started", s.of(Metric.PURCHASES_CREATED)),
        ("Purchases paid", s.of(Metric.PURCHASES_PAID)),
    ]
    rows: list[list[Cell]] = [[step, n, _rate(n, starts)] for step, n in steps]
    columns = [
        Column("step", "Step", Kind.TEXT),
        Column("count", "Count"),
        Column("of_starts", "Of starts", Kind.PERCENT),
    ]
    return Table("funnel", "Conversion funnel", columns, rows)


def revenue_table(s: Sums) -> Table:
    rows: list[list[Cell]] = []
    for (metric, dim), cents in sorted(s.values.items()):
        parts = dict(p.split("=", 1) for p in dim.split(",") if "=" in p)
        if metric == Metric.REVENUE_CENTS.value and set(parts) == {"currency", "method"}:
            refunded = s.of(Metric.REFUNDED_CENTS, ("currency", parts["currency"]))
            rows.append(
                [
                    parts["currency"],
                    parts["method"],
                    cents,
                    s.of(Metric.REFUNDS, ("method", parts["method"])),
                    refunded,
                ]
            )
    columns = [
        Column("currency", "Currency", Kind.TEXT),
        Column("method", "Method", Kind.TEXT),
        Column("cents", "Received (cents)"),
        Column("refunds", "Refunds (method)"),
        Column("refunded_cents", "Refunded (cents, currency)"),
    ]
    return Table("revenue", "Revenue per currency and method", columns, rows)


TABLES = ("funnel", "revenue", "creators", "groups", "sources")


@dataclass(frozen=True)
class Report:
    window: Window
    totals: dict[str, int]
    charts: dict[str, list[object]]
    tables: dict[str, Table]


def _totals(s: Sums, active_now: int) -> dict[str, int]:
    return {
        "revenue_brl_cents": s.of(Metric.REVENUE_CENTS, ("currency", "BRL")),
        "revenue_xtr": s.of(Metric.REVENUE_CENTS, ("currency", "XTR")),
        "checkouts": s.of(Metric.PURCHASES_CREATED),
        "paid": s.of(Metric.PURCHASES_PAID),
        "starts": s.of(Metric.STARTS),
        "new_buyers": s.of(Metric.NEW_BUYERS),
        "refunds": s.of(Metric.REFUNDS),
        "churn": s.of(Metric.CHURN),
        "active_subscriptions": active_now,
        "messages_sent": s.of(Metric.MESSAGES_SENT),
        "messages_deleted": s.of(Metric.MESSAGES_DELETED),
        "messages_failed": s.of(Metric.MESSAGES_FAILED),
    }


async def tables(session: AsyncSession, s: Sums, names: Iterable[str] = TABLES) -> dict[str, Table]:
    made: dict[str, Table] = {}
    for name in names:
        if name == "funnel":
            made[name] = funnel_table(s)
        elif name == "revenue":
            made[name] = revenue_table(s)
        elif name == "creators":
            made[name] = await creators_table(session, s)
        elif name == "groups":
            made[name] = await groups_table(session, s)
        elif name == "sources":
            made[name] = await sources_table(session, s)
    return made


async def build(session: AsyncSession, span: Span, tz: tzinfo, now: datetime | None = None) -> Report:
    w = window(span, tz, now)
    s = await sums(session, w)
    drawn = await charts(session, w)
    active = drawn[Metric.ACTIVE_SUBSCRIPTIONS.value]
    latest = active[-1] if active else 0
    return Report(
        w, _totals(s, int(latest) if isinstance(latest, int) else 0), drawn, await tables(session, s)
    )


async def table(
    session: AsyncSession, span: Span, name: str, tz: tzinfo, now: datetime | None = None
) -> Table:
    """One breakdown table of a range (for its CSV export)."""
    return (await tables(session, await sums(session, window(span, tz, now)), [name]))[name]
