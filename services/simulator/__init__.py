"""Simulated influencer campaigns with labelled decay, fed to ingest on a simulated clock.

``model`` is pure and cheap to import; ``runner`` and ``cli`` bring in the HTTP client.
"""
