"""The completion loop: units answer back (Telegram bot commands, signed "Đã hoàn thành" links)."""
