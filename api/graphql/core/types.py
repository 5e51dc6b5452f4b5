"""Types shared by every domain: the rate limit status."""

from __future__ import annotations

from datetime import UTC, datetime

import graphene


class RateLimit(graphene.ObjectType):
    """Points this client may still spend this hour, as GitHub's GraphQL API reports them."""

    limit = graphene.Int(required=True, description="Points per hour for this client.")
    cost = graphene.Int(required=True, description="Points this query cost.")
    node_count = graphene.Int(required=True, description="The computed cost in nodes.")
    remaining = graphene.Int(required=True)
    used = graphene.Int(required=True)
    reset_at = graphene.DateTime(required=True)

    @staticmethod
    def from_state(state) -> RateLimit:
        return RateLimit(
            limit=state.limit,
            cost=state.points,
            node_count=state.cost,
            remaining=state.remaining,
            used=state.used,
            reset_at=datetime.fromtimestamp(state.reset_at, UTC),
        )
