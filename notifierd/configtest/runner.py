"""Run one config test case against a snapshot: route, render, compare expected with actual."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifierd.config.heartbeats import late_alert
from notifierd.config.model import Snapshot
from notifierd.configtest.cases import Case, OnCallCheck
from notifierd.pipeline.render import Renderer
from notifierd.request import Request
from notifierd.routing.router import PlannedDelivery, Router, RoutingDecision
from notifierd.schedules.listing import find_schedule, iso
from notifierd.schedules.oncall import describe, on_call
from notifierd.schedules.paging import Paged, page
from notifierd.templates import TemplateCatalog


@dataclass(frozen=True, slots=True)
class Failure:
    """One expectation that did not hold, located at its key in the case file."""

    key: str  # "routes", "rendered[0].subject", ...
    line: int
    column: int
    message: str  # "expected routes [a, b], got [a, c]"
    expected: Any = None
    actual: Any = None


@dataclass
class CaseResult:
    case: Case
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None  # the case could not run at all

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


def _names(items: Any) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"


def _pair(channel: str, recipient: str | None) -> str:
    return f"{channel}→{recipient}" if recipient is not None else channel


def _pairs(pairs: Any) -> str:
    return "[" + ", ".join(_pair(c, r) for c, r in pairs) + "]"


def _text_check(what: str, check: dict[str, str], actual: str) -> str | None:
    """A message when ``actual`` fails ``check`` (equals | contains | matches), else None."""
    if "equals" in check and actual != check["equals"]:
        return f"expected {what} to equal {check['equals']!r}, got {actual!r}"
    if "contains" in check and check["contains"] not in actual:
        return f"expected {what} to contain {check['contains']!r}, got {actual!r}"
    if "matches" in check:
        try:
            found = re.search(check["matches"], actual)
        except re.error as exc:
            return f"invalid regular expression {check['matches']!r}: {exc}"
        if not found:
            return f"expected {what} to match /{check['matches']}/, got {actual!r}"
    return None


class _Run:
    def __init__(
        self,
        snapshot: Snapshot,
        catalog: TemplateCatalog,
        case: Case,
        request: Request,
        decision: RoutingDecision,
        now: datetime,
    ):
        self.snapshot = snapshot
        self.case = case
        self.decision = decision
        self.renderer = Renderer(catalog, request)
        self.failures: list[Failure] = []
        # (channel, recipient, person) of each delivery, a schedule resolved at the case's
        # time as the daemon resolves it at a delivery's first attempt.
        self.sent = [self.resolved(d, request, now) for d in decision.deliveries]

    def resolved(
        self, d: PlannedDelivery, request: Request, now: datetime
    ) -> tuple[str, str | None, str | None]:
        sid = (d.recipient or "").removeprefix("schedule:")
        schedule = self.snapshot.schedules.get(sid) if d.recipient != sid else None
        channel = self.snapshot.channels.get(d.channel)
        if schedule is None or channel is None:
            return d.channel, d.recipient, None
        paged = page(
            schedule, self.snapshot.people, channel, request.severity, request.priority, now
        )
        if isinstance(paged, Paged):
            return d.channel, paged.address, paged.person
        return d.channel, None, None  # paged nobody: nothing is sent

    def fail(self, path: tuple[Any, ...], message: str, expected: Any, actual: Any) -> None:
        mark = self.case.mark(*path)
        key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
        self.failures.append(
            Failure(key, mark.line, mark.column, message, expected=expected, actual=actual)
        )

    def channel_type(self, channel: str) -> str:
        ch = self.snapshot.channels.get(channel)
        return ch.type if ch is not None else ""

    def render(self, d: PlannedDelivery) -> Any:
        return self.renderer.render(d.template, d.template_from, self.channel_type(d.channel))

    def check(self, expect: dict[str, Any]) -> None:
        dec = self.decision
        if "routes" in expect:
            got = list(dec.routes)
            if got != expect["routes"]:
                self.fail(
                    ("routes",),
                    f"expected routes {_names(expect['routes'])}, got {_names(got)}",
                    expect["routes"],
                    got,
                )
        if "channels" in expect:
            got_set = sorted({d.channel for d in dec.deliveries})
            want = sorted(set(expect["channels"]))
            if got_set != want:
                self.fail(
                    ("channels",),
                    f"expected channels {_names(want)}, got {_names(got_set)}",
                    want,
                    got_set,
                )
        actual_pairs = {(c, r) for c, r, _ in self.sent}
        if "deliveries" in expect:
            want_pairs = {(p["channel"], p.get("recipient")) for p in expect["deliveries"]}
            if want_pairs != actual_pairs:
                missing = sorted(want_pairs - actual_pairs, key=str)
                extra = sorted(actual_pairs - want_pairs, key=str)
                detail = "; ".join(
                    part
                    for part in (
                        f"missing {_pairs(missing)}" if missing else "",
                        f"unexpected {_pairs(extra)}" if extra else "",
                    )
                    if part
                )
                self.fail(
                    ("deliveries",),
                    f"expected deliveries {_pairs(sorted(want_pairs, key=str))}, "
                    f"got {_pairs(sorted(actual_pairs, key=str))} ({detail})",
                    [list(p) for p in sorted(want_pairs, key=str)],
                    [list(p) for p in sorted(actual_pairs, key=str)],
                )
            for i, p in enumerate(expect["deliveries"]):
                self.check_person(("deliveries", i, "person"), p)
        for i, p in enumerate(expect.get("includes") or ()):
            if "person" in p:  # who is paged, and at which recipient when it says
                self.check_person(("includes", i, "person"), p)
                continue
            if "recipient" in p:
                ok = (p["channel"], p["recipient"]) in actual_pairs
                want_s = _pair(p["channel"], p["recipient"])
            else:
                ok = any(c == p["channel"] for c, _ in actual_pairs)
                want_s = p["channel"]
            if not ok:
                self.fail(
                    ("includes", i),
                    f"expected a delivery to {want_s}, got {_pairs(sorted(actual_pairs, key=str))}",
                    p,
                    [list(x) for x in sorted(actual_pairs, key=str)],
                )
        if "escalation" in expect and expect["escalation"] != dec.escalation:
            self.fail(
                ("escalation",),
                f"expected escalation {expect['escalation'] or 'none'}, got {dec.escalation or 'none'}",
                expect["escalation"],
                dec.escalation,
            )
        if "suppressed" in expect:
            want_s = expect["suppressed"]
            got_s = dec.suppressed_by
            ok = (got_s is not None) == want_s if isinstance(want_s, bool) else got_s == want_s
            if not ok:
                if isinstance(want_s, bool):
                    shown = "suppressed" if want_s else "not suppressed"
                else:
                    shown = f"suppressed by {want_s}"
                got_shown = f"suppressed by {got_s}" if got_s else "not suppressed"
                self.fail(("suppressed",), f"expected {shown}, got {got_shown}", want_s, got_s)
        if "template" in expect:
            self.check_template(expect["template"])
        for i, item in enumerate(expect.get("rendered") or ()):
            self.check_rendered(i, item)

    def check_person(self, path: tuple[Any, ...], want: dict[str, Any]) -> None:
        """``person``: who a schedule delivery on that channel (to that recipient) pages."""
        if "person" not in want:
            return
        on = [
            (r, person)
            for c, r, person in self.sent
            if c == want["channel"] and ("recipient" not in want or r == want["recipient"])
        ]
        if any(person == want["person"] for _, person in on):
            return
        where = _pair(want["channel"], want.get("recipient"))
        got = sorted({str(person) for _, person in on if person is not None})
        self.fail(
            path,
            f"expected {where} to page {want['person'] or 'no person'}, "
            + (f"got {_names(got)}" if got else "it pages no person"),
            want["person"],
            got,
        )

    def check_template(self, want: str | None) -> None:
        used: dict[str, str | None] = {}
        for d in self.decision.deliveries:
            r = self.render(d)
            used[_pair(d.channel, d.recipient)] = r.template
        if not used:
            self.fail(("template",), f"expected template {want}, got no deliveries", want, None)
            return

        def fits(t: str | None) -> bool:
            if want is None or t is None:
                return want == t
            return t == want if "@" in want else t.split("@", 1)[0] == want

        wrong = {k: v for k, v in used.items() if not fits(v)}
        if wrong:
            got = sorted({str(v) if v else "plain" for v in used.values()})
            where = ", ".join(f"{k}: {v or 'plain'}" for k, v in wrong.items())
            self.fail(
                ("template",),
                f"expected template {want or 'plain'}, got {_names(got)} ({where})",
                want,
                {k: v for k, v in used.items()},
            )

    def check_rendered(self, i: int, item: dict[str, Any]) -> None:
        target = item["channel"]
        chosen = [
            d
            for d in self.decision.deliveries
            if d.channel == target or self.channel_type(d.channel) == target
        ]
        if not chosen:
            got = sorted({d.channel for d in self.decision.deliveries})
            self.fail(
                ("rendered", i, "channel"),
                f"expected a delivery to channel {target} to render, got deliveries to {_names(got)}",
                target,
                got,
            )
            return
        seen: set[tuple[str, str]] = set()
        for d in chosen:
            key = (str(d.template), self.channel_type(d.channel))
            if key in seen:
                continue
            seen.add(key)
            r = self.render(d)
            if r.message is None:
                self.fail(
                    ("rendered", i, "channel"),
                    f"delivery to {d.channel} cannot render: {r.error}",
                    item,
                    r.error,
                )
                continue
            for part in ("subject", "text"):
                if part in item:
                    actual = getattr(r.message, part) or ""
                    msg = _text_check(f"{part} on {d.channel}", item[part], actual)
                    if msg:
                        self.fail(("rendered", i, part), msg, item[part], actual)


def _request_data(snapshot: Snapshot, case: Case) -> dict[str, Any]:
    """The case's request, or the alert its heartbeat opens when late."""
    if case.heartbeat is None:
        return {"id": f"test:{case.name}", **(case.request or {})}
    heartbeat = snapshot.heartbeats.get(case.heartbeat)
    if heartbeat is None:
        known = ", ".join(sorted(snapshot.heartbeats)) or "none"
        raise LookupError(f"no heartbeat named {case.heartbeat!r} (heartbeats: {known})")
    return late_alert(heartbeat, f"test:{case.name}", None)


def run_case(
    snapshot: Snapshot, router: Router, catalog: TemplateCatalog, case: Case
) -> CaseResult:
    """Route (and render, when asked) ``case.request`` at ``case.at``; compare with ``expect``.

    Never raises: a bug or a bad request becomes the result's ``error``.
    """
    failures: list[Failure] = []
    try:
        if case.request is not None or case.heartbeat is not None:
            request = Request.from_dict(_request_data(snapshot, case))
            now = case.at or datetime.now(UTC)
            decision = router.route(request, now)
            run = _Run(snapshot, catalog, case, request, decision, now)
            run.check(case.expect)
            failures += run.failures
        for i, check in enumerate(case.oncall):
            failures += _check_oncall(snapshot, case, i, check)
    except Exception as exc:  # one broken case must not stop the others
        return CaseResult(case, error=f"{type(exc).__name__}: {exc}")
    return CaseResult(case, failures)


def _check_oncall(snapshot: Snapshot, case: Case, i: int, check: OnCallCheck) -> list[Failure]:
    """``oncall[i]``: whether ``check.person`` (None: nobody) is on call at ``check.at``."""
    schedule = find_schedule(snapshot, check.schedule)
    if schedule is None:
        mark = case.mark_of("oncall", i, "schedule")
        known = ", ".join(sorted(snapshot.schedules)) or "none"
        message = f"no schedule {check.schedule!r} (an id or a handle); schedules: {known}"
        return [Failure(f"oncall[{i}].schedule", mark.line, mark.column, message)]
    shift = on_call(schedule, check.at)
    if shift.person == check.person:
        return []
    mark = case.mark_of("oncall", i, "person")
    message = (
        f"expected {check.person or 'nobody'} on call for {schedule.id} at {iso(check.at)}, "
        f"got {shift.person or 'nobody'} ({describe(shift.source)}, "
        f"{iso(shift.start)} → {iso(shift.end)})"
    )
    return [
        Failure(f"oncall[{i}].person", mark.line, mark.column, message, check.person, shift.person)
    ]
