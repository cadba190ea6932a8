"""The Office's web admin (FastAPI, server-rendered Jinja2 pages in Vietnamese)."""
