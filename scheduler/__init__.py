"""The clock: APScheduler jobs that run the planner and the outbox at the send time."""
