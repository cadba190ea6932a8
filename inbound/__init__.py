"""Inbound: what units send back. The Telegram bot's commands (/xong, /baocao, /giahan, /start CODE), signed
"Đã hoàn thành" links, and the handing over of invite codes (links, QR codes)."""
