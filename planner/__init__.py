"""Planning: the working calendar, report periods, and the pure planner."""
