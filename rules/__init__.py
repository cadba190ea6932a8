"""Rules: what to send, when, to whom, on which channels; validated data, stored in the database."""
