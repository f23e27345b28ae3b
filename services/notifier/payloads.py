"""What a webhook receives: the request body for each format (signatures: ``signing``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from services.domain.alerting import change_of
from services.domain.alerts import Alert
from services.domain.allocation import Recommendation
from services.storage.webhooks import WebhookFormat

TOP_CONTRIBUTORS = 3

_STATE_TITLES = {
    "firing": ":rotating_light: Firing",
    "acknowledged": ":eyes: Acknowledged",
    "resolved": ":white_check_mark: Resolved",
}


def render(format: WebhookFormat, event: Alert | Recommendation) -> bytes:
    if isinstance(event, Recommendation):
        return budget_slack_body(event) if format == "slack" else budget_generic_body(event)
    return slack_body(event) if format == "slack" else generic_body(event)


def budget_generic_body(recommendation: Recommendation) -> bytes:
    """The campaign's recommendation as JSON, plus ``event``: ``budget.moves``."""
    return orjson.dumps({**recommendation.model_dump(mode="json"), "event": "budget.moves"})


def budget_slack_body(recommendation: Recommendation) -> bytes:
    campaign = _escape(recommendation.campaign_id)
    lines = [
        f"• {m.amount:,.2f} {m.currency or ''} from `{_escape(m.from_creator_id or 'budget')}` "
        f"to `{_escape(m.to_creator_id or 'budget')}`: {m.expected_new_customers.mid:+.1f} new "
        f"customers a week (P(gain) {m.probability:.0%})"
        for m in recommendation.moves
    ] or [f"No move: {_escape(recommendation.reason or '')}"]
    text = f"Budget moves · campaign `{campaign}`\n" + "\n".join(lines)
    return orjson.dumps({"text": text, "blocks": [{"type": "section", "text": _mrkdwn(text)}]})


def report_body(format: WebhookFormat, event: dict[str, Any]) -> bytes:
    """A ``report.weekly`` event (``service_layer.reports.report_event``): as it is for generic
    receivers; for Slack, the headline, the decision and links to the HTML and the PDF."""
    if format != "slack":
        return orjson.dumps(event)
    summary, urls = event["summary"], event["urls"]
    title = f"*Weekly review* · campaign `{_escape(event['campaign_id'])}` · {event['week']}"
    lines = [
        title,
        _escape(summary["headline"]),
        f"*Decision:* {_escape(summary['decision'])}",
        f"<{urls['html']}|Open the review> · <{urls['pdf']}|PDF>",
    ]
    return orjson.dumps(
        {
            "text": f"Weekly review {event['campaign_id']} {event['week']}: {summary['headline']}",
            "blocks": [{"type": "section", "text": _mrkdwn("\n".join(lines))}],
        }
    )


def test_body(format: WebhookFormat, webhook_id: str, at: datetime) -> bytes:
    """The ``webhook.test`` event a team sends to check its receiver."""
    text = "Campaign Pulse test event: this receiver is reachable and can verify signatures."
    if format == "slack":
        return orjson.dumps({"text": text})
    return orjson.dumps(
        {"event": "webhook.test", "webhook_id": webhook_id, "sent_at": at.isoformat(), "text": text}
    )


def generic_body(alert: Alert) -> bytes:
    """The alert as JSON, plus ``event``: a state change (``alert.firing``,
    ``alert.acknowledged``, ``alert.resolved``) or ``alert.updated`` for a revision in between."""
    return orjson.dumps({**alert.model_dump(mode="json"), "event": f"alert.{change_of(alert)}"})


def _escape(text: str) -> str:
    """Slack mrkdwn reads &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def slack_body(alert: Alert) -> bytes:
    """A Slack incoming-webhook message: ``text`` for notifications, ``blocks`` for the layout."""
    title = _STATE_TITLES[alert.state]
    campaign = _escape(alert.campaign_id)
    summary = _escape(alert.summary)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(f"*{title}* · campaign `{campaign}`\n{summary}")},
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*Campaign*\n{campaign}"),
                _mrkdwn(f"*State*\n{alert.state}"),
                _mrkdwn(f"*Severity*\n{alert.severity}"),
                _mrkdwn(f"*Status*\n{alert.status}"),
            ],
        },
    ]
    top = sorted(alert.contributors, key=lambda c: c.share, reverse=True)[:TOP_CONTRIBUTORS]
    if top:
        lines = [
            f"• `{_escape(c.creator_id)}`: {c.share:.0%} of the change in {_escape(c.metric)}"
            for c in top
        ]
        blocks.append(
            {"type": "section", "text": _mrkdwn("*Top contributors*\n" + "\n".join(lines))}
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                _mrkdwn(
                    f"alert `{_escape(alert.alert_id)}` · cause {_escape(alert.cause)} · "
                    f"revision {alert.revision}"
                )
            ],
        }
    )
    text = f"[{alert.state.upper()}] {campaign}: {summary}"
    return orjson.dumps({"text": text, "blocks": blocks})
