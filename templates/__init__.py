"""Jinja2 message templates (Vietnamese), one folder per channel."""
