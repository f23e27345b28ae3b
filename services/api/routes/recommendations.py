"""Budget recommendations: where a campaign's next week of spend should go, and how sure that is.
The method: ``docs/budget-moves.md``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from starlette.concurrency import run_in_threadpool

from services.api.deps import CampaignsReader, Configs, Statuses
from services.api.routes.campaigns import NOT_FOUND
from services.domain.allocation import Recommendation
from services.service_layer.recommendations import campaign_recommendation

router = APIRouter(tags=["campaigns"])


@router.get(
    "/v1/campaigns/{campaign_id}/recommendations",
    response_model=Recommendation,
    responses=NOT_FOUND,
)
async def get_recommendations(
    campaign_id: str, _: CampaignsReader, repository: Statuses, configs: Configs
) -> Recommendation:
    """Each creator's marginal CAC at its current spend and its proposed spend for the next
    seven days, and the moves of budget between creators whose posterior probability of gain
    exceeds the threshold. An empty ``moves`` comes with a ``reason``."""
    # The fit draws posterior samples with numpy: kept off the event loop.
    found = await run_in_threadpool(campaign_recommendation, repository, configs, campaign_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"campaign '{campaign_id}' not found")
    return found
