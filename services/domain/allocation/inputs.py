"""What the allocator reads from a creator's stored view: its last seven days of spend and new
customers (the view's ``7d`` window), tier, platform and status, and whether it may receive
budget."""

from __future__ import annotations

from collections.abc import Sequence

from services.domain.allocation.allocator import CreatorInput
from services.domain.views import CreatorView

WINDOW = "7d"


def suspicious_engagement_flags(view: CreatorView) -> Sequence[object]:
    """The view's suspicious-engagement flags. Hook for the weekly-review issue, which adds
    ``flags`` to the creator view; until then a view has none."""
    flags: Sequence[object] = getattr(view, "flags", None) or ()
    return flags


def exclusion(view: CreatorView) -> str | None:
    """Why the creator may not receive budget; None when it may."""
    if view.status == "decaying":
        return "decaying: receives no budget"
    flags = suspicious_engagement_flags(view)
    if flags:
        return f"flagged for suspicious engagement ({len(flags)} flag(s)): receives no budget"
    return None


def posts_in_window(view: CreatorView) -> float | None:
    """How many posts the window's spend paid for, at the creator's average spend a post;
    None when the creator has no spend or posts yet."""
    window = view.windows.get(WINDOW)
    if window is None or view.posts == 0 or view.totals.spend <= 0:
        return None
    return max(1.0, view.posts * window.spend / view.totals.spend)


def creator_input(view: CreatorView) -> CreatorInput:
    window = view.windows.get(WINDOW)
    return CreatorInput(
        creator_id=view.creator_id,
        tier=view.tier,
        platform=view.platform,
        status=view.status,
        spend=window.spend if window is not None else 0.0,
        new_customers=window.new_customers if window is not None else 0,
        excluded=exclusion(view),
        posts=posts_in_window(view),
    )
