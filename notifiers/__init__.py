"""Delivery channels, one module per channel behind one interface (email, Telegram, Zalo, file/console)."""
