"""Delivery: turning planned notifications into outbox rows, and the dispatcher that sends them."""
