"""What the tests share: fake servers (SMTP, Telegram Bot API, Zalo), builders of plans and planner inputs, the
deadline phrase table, and the web and browser helpers. Tests import from here, never from another test module."""
