"""Adapters from the platforms' documented API responses to ``post_metrics`` snapshots.

One pure module per platform (``instagram``, ``tiktok``, ``youtube``): each takes what the API
answered for one post plus what only the caller knows (``PostContext``) and returns a validated
``PostMetrics`` event, or raises ``SourceError`` naming the field and the reason. Fetching,
scheduling and remembering earlier snapshots belong to the poller, not here.
"""
